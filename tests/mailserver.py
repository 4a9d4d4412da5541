"""A real SMTP server for tests: aiosmtpd on a free loopback port, recording what it receives."""

import asyncio
import contextlib
import email
import email.policy
import socket
import threading
import time
from dataclasses import dataclass

from aiosmtpd.controller import Controller


def free_port():
    """A loopback port nobody listens on (closed again before it is returned)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list
    raw: bytes

    @property
    def message(self):
        return email.message_from_bytes(self.raw, policy=email.policy.default)


class Recorder:
    """An aiosmtpd handler that keeps every message and can be told to misbehave.

    rcpt_reply / data_reply: an SMTP reply to answer instead of accepting.
    data_delay: seconds to sit on the data before answering (the message is
    recorded first, as a real server would have it by then).
    """

    def __init__(self, rcpt_reply=None, data_reply=None, data_delay=0.0):
        self.rcpt_reply = rcpt_reply
        self.data_reply = data_reply
        self.data_delay = data_delay
        self.received = []
        self.mail_commands = 0
        self.lock = threading.Lock()

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        with self.lock:
            self.mail_commands += 1
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
            )
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        return self.data_reply or "250 Message accepted for delivery"

    def wait_for(self, count, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.05)
        raise AssertionError(f"expected {count} message(s), the server received {len(self.received)}")


@contextlib.contextmanager
def running_smtp(handler, port=None):
    """Serve `handler` on 127.0.0.1; yields the port."""
    port = port or free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, server_hostname="smtp.test")
    controller.start()
    try:
        yield port
    finally:
        controller.stop()
