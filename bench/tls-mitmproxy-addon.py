"""mitmproxy addon for bench/tls-run.ts: loopback only.

Names ending in .test connect to 127.0.0.1 (the SNI stays the name, so the origin's
certificate is checked against it); any other destination that is not a loopback
literal is refused before a connection is made, so no name is ever resolved.
"""

LOOPBACK = ("127.0.0.1", "::1", "localhost")


def server_connect(data):
    host, port = data.server.address
    if host.endswith(".test"):
        data.server.address = ("127.0.0.1", port)
    elif host not in LOOPBACK:
        data.server.error = f"bench: refusing to connect to {host}"
