"""The api2convert-compatible JSON API (v2), so the vendor's SDKs work against this app."""
