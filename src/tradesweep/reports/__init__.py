"""Reports of a backtest for people: an offline HTML file and shared value formatting.

Importing this package is cheap; plotly is only imported when a report is written.
"""

from tradesweep.reports.format import format_metric, format_time, metric_tone
from tradesweep.reports.html import write_html_report

__all__ = ["format_metric", "format_time", "metric_tone", "write_html_report"]
