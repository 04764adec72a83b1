"""``pledge serve``: run the REST service under uvicorn.

Everything that can be wrong is found before the first request: the settings (environment,
``--config`` TOML, options), the master key, the TLS files, the database and the policy are
checked by opening the vault once here. The workers then build their apps from the same,
validated settings, exported as ``PLEDGE_*`` variables (:mod:`pledge.api.asgi`).

On SIGTERM or Ctrl-C uvicorn stops accepting connections and finishes the requests in
flight before it exits, so a deploy never cuts a collection in half.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import structlog
import typer
import uvicorn

from pledge.api.config import ApiSettings, load_api_settings
from pledge.api.logs import configure_logging
from pledge.cli._output import exit_on_error
from pledge.cli._vault import DatabaseOption, DataDirOption, PolicyOption
from pledge.errors import InputError, MasterKeyError
from pledge.settings import open_vault

ASGI_APP = "pledge.api.asgi:app"
WORKER_START_SECONDS = 60

app = typer.Typer(help="Run the REST service.")
log = structlog.get_logger("pledge.serve")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    ssl_certfile: Annotated[
        Path | None, typer.Option(help="TLS certificate (PEM); serve HTTPS with --ssl-keyfile.")
    ] = None,
    ssl_keyfile: Annotated[Path | None, typer.Option(help="TLS private key (PEM).")] = None,
    config: Annotated[
        Path | None,
        typer.Option(help="TOML file of settings (names as PLEDGE_* without the prefix)."),
    ] = None,
    policy: PolicyOption = None,
    data_dir: DataDirOption = None,
    database_url: DatabaseOption = None,
    dev: Annotated[
        bool,
        typer.Option(
            "--dev", help="Development: readable logs; a local key file if no master key is set."
        ),
    ] = False,
) -> None:
    """Serve the REST API (docs at /docs) until SIGTERM or Ctrl-C."""
    with exit_on_error():
        settings = load_api_settings(
            config,
            policy=policy,
            data_dir=data_dir,
            database_url=database_url,
            dev=dev or None,
        )
        configure_logging(json=not settings.dev)
        settings = _master_key(settings)
        if (ssl_certfile is None) != (ssl_keyfile is None):
            raise InputError("give both --ssl-certfile and --ssl-keyfile, or neither")
        open_vault(settings).close()
    os.environ.update(settings.as_environment())
    log.info("starting", host=host, port=port, workers=workers, tls=ssl_certfile is not None)
    uvicorn.run(
        ASGI_APP,
        host=host,
        port=port,
        workers=workers,
        ssl_certfile=ssl_certfile,
        ssl_keyfile=ssl_keyfile,
        log_config=None,
        access_log=False,
        server_header=False,
        # A worker opens the store before it answers the supervisor's health check; on a busy
        # machine that takes more than uvicorn's 5 s, and the worker would be killed in a loop.
        timeout_worker_healthcheck=WORKER_START_SECONDS,
    )


def _master_key(settings: ApiSettings) -> ApiSettings:
    """Refuse to start without the master key the settings point at; in development fall
    back to the local key file, so a laptop needs no secret manager."""
    if settings.master_key_source != "env" or os.environ.get("PLEDGE_MASTER_KEY"):
        return settings
    if not settings.dev:
        raise MasterKeyError(
            "PLEDGE_MASTER_KEY_SOURCE is 'env' but PLEDGE_MASTER_KEY is not set; set it to the "
            "store's master key (base64, 32 bytes), or pass --dev to use a local key file"
        )
    log.warning("no PLEDGE_MASTER_KEY: --dev uses the key file in the data directory")
    return settings.model_copy(update={"master_key_source": "file"})


if __name__ == "__main__":
    app()
