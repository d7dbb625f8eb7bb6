"""Reflex configuration; ports and host come from Azera's settings (AZERA_*)."""

import reflex as rx
from reflex.plugins.sitemap import SitemapPlugin

from azera.config import get_settings

settings = get_settings()

config = rx.Config(
    app_name="azera",
    frontend_port=settings.frontend_port,
    backend_port=settings.backend_port,
    backend_host=settings.host,
    api_url=f"http://{'localhost' if settings.host in ('127.0.0.1', '::1') else settings.host}:{settings.backend_port}",
    cors_allowed_origins=settings.origins,  # never '*': the websocket and CORS refuse foreign pages
    telemetry_enabled=False,
    show_built_with_reflex=False,
    disable_plugins=[SitemapPlugin],
    plugins=[
        rx.plugins.RadixThemesPlugin(
            theme=rx.theme(appearance="dark", accent_color="violet", gray_color="slate", radius="large")
        )
    ],
)
