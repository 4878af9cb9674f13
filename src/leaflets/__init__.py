"""leaflets: prescription labels, patient leaflets and monographs for a 503A compounding pharmacy."""

__version__ = "0.1.0"
