"""Web-server access logs taken in minimised: parse, minimise, count, store; nothing more kept."""
