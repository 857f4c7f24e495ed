"""Alerting: notification channels and the dispatcher that delivers the outbox.

Sits beside the web layers: it calls services (which call storage), never the other way.
"""
