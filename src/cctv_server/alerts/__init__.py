"""Alerts: what raises one (rules), the durable outbox, delivery with Apprise, Home Assistant over MQTT."""
