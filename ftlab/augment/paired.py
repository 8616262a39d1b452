"""Paired comparisons over seeds, now in the foundation (:mod:`ftlab._report`), where every wing
can use them; these names stay importable from here for older code and notebook 06's solutions."""

from ftlab._report import (PairedInterval, paired_interval, t_quantile,  # noqa: F401
                           two_way_bootstrap)
