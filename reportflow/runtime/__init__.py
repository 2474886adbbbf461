"""What runs things: `serve`, the Prefect API client and server, processes and zombie runs, the warm LibreOffice, the SMTP sink and the health checks."""
