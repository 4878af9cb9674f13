"""The monographs as web pages, for the URL every label's QR code carries: html (a composed
monograph as accessible HTML, from the same blocks as its PDF) and build (`leaflets site`: the
pages and PDFs as static files). The counter's server answers the same pages."""
