"""Team scale: the model as a shared service (Ray Serve), a stdlib HTTP backend for clients, and
distributed scans on Ray.

Only `deployment`, `app` and `distributed` import Ray, and only when called; `wire`, `client` and
`remote` need nothing beyond the base install, so editors and CI clients never need Ray.
"""
