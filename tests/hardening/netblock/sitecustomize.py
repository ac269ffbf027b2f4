"""Loaded by every Python process started with this folder on PYTHONPATH (the server, the CLI, and any
child such as pip): blocks network access and records each attempt, so a test can prove none happens.

Local plumbing stays allowed: AF_UNIX sockets and socketpair() (asyncio's self-pipe). Every attempt
to resolve a name or reach an IP address raises OSError and appends one line to MANYSKILLS_NET_LOG.
"""

import os
import socket
import traceback

_LOG = os.environ.get("MANYSKILLS_NET_LOG")


def _record(what: str) -> None:
    if _LOG:
        stack = " <- ".join(f"{f.name}:{f.lineno}" for f in traceback.extract_stack()[-6:-2])
        with open(_LOG, "a") as fh:
            fh.write(f"ATTEMPT pid={os.getpid()} {what} at {stack}\n")


def _is_network(family) -> bool:
    return family in (socket.AF_INET, socket.AF_INET6)


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_sendto = socket.socket.sendto


class _BlockedSocket(socket.socket):
    def connect(self, address):
        if _is_network(self.family):
            _record(f"connect {address!r}")
            raise OSError(101, "network blocked by the ManySkills security test")
        return _real_connect(self, address)

    def connect_ex(self, address):
        if _is_network(self.family):
            _record(f"connect_ex {address!r}")
            return 101
        return _real_connect_ex(self, address)

    def sendto(self, *args):
        if _is_network(self.family):
            _record(f"sendto {args[-1]!r}")
            raise OSError(101, "network blocked by the ManySkills security test")
        return _real_sendto(self, *args)


def _blocked_getaddrinfo(host, *args, **kwargs):
    _record(f"getaddrinfo {host!r}")
    raise socket.gaierror(socket.EAI_NONAME, "name resolution blocked by the ManySkills security test")


def _blocked_create_connection(address, *args, **kwargs):
    _record(f"create_connection {address!r}")
    raise OSError(101, "network blocked by the ManySkills security test")


socket.socket = _BlockedSocket
socket.getaddrinfo = _blocked_getaddrinfo
socket.create_connection = _blocked_create_connection
if _LOG:
    with open(_LOG, "a") as fh:
        fh.write(f"LOADED pid={os.getpid()}\n")
