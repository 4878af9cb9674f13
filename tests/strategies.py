"""Hypothesis strategies shared by the property tests."""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

from leaflets.models import BudCategory, BudCounting

dates = st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2035, 12, 31))
categories = st.sampled_from(list(BudCategory))
countings = st.sampled_from(list(BudCounting))
expiry_lists = st.lists(dates, min_size=1, max_size=4)
