"""Health monitor (docs/monitor.md).

Public API:
    monitor(targets, MonitorConfig | dict) -> MonitorResult      (exit_code: 0 fine, 1 breach)
    monitor_async(...)                                            the same, awaitable
    MonitorConfig, parse_monitor_config(data)                     configuration (extra="forbid")
"""

from .monitor import MonitorConfig, MonitorResult, Thresholds, ToolProbe, monitor, monitor_async, parse_monitor_config

__all__ = ["MonitorConfig", "MonitorResult", "Thresholds", "ToolProbe", "monitor", "monitor_async", "parse_monitor_config"]
