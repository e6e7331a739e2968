"""The one client the grader talks to kernels with: bounded before anything is decoded.

A kernel is the student's: it may send one message of gigabytes, many frames, bad signatures,
or a flood of display updates and widget (comm) messages that nbclient would store in the
notebook past the output budget. What the grader's worker holds is bounded here, in the
transport, for every user of the client (nbclient's executor, and any request protocol):

- a message is received frame by frame, and one whose frames add up to more than
  `MAX_MESSAGE_BYTES`, or with more than `MAX_FRAMES` frames, is drained and dropped without
  being decoded (`BoundedSession` checks again before it decodes); it arrives as a short stdout
  note for the cell it answers (an `execute_reply` as an error reply), so the notebook says so;
- display updates (`update_display_data`, and any output carrying a display id, which nbclient
  writes into the earlier outputs of that id) and comm messages (widget state) share a budget
  of `side_budget` bytes per kernel; past it they are dropped, never stored;
- a message that does not decode (bad signature, bad JSON) is dropped.

A dropped message is handed on with an empty parent header, which every reader ignores.
"""

from __future__ import annotations

import time
from queue import Empty
from typing import Any

import zmq
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.channels import AsyncZMQSocketChannel
from jupyter_client.session import Session
from traitlets import Integer, Type

MAX_MESSAGE_BYTES = 8 * 1024 * 1024  # one kernel message, all its frames
MAX_FRAMES = 64  # identities, delimiter, signature, 4 parts, buffers
MAX_HEADER_BYTES = 64 * 1024  # header, parent header, metadata: each
SIDE_MESSAGES = ("update_display_data", "comm_open", "comm_msg", "comm_close")
DELIMITER = b"<IDS|MSG>"


class BoundedSession(Session):
    """jupyter_client's Session, refusing to decode what is too large (`deserialize` checks
    every frame's size first) and keeping its kernel's budget of side messages."""

    side_budget = Integer(200_000, help="Bytes of display updates and comm messages a kernel "
                          "may send in all; past it they are dropped.").tag(config=True)

    def deserialize(self, msg_list, content: bool = True, copy: bool = True) -> dict:
        sizes = [len(f) for f in msg_list]
        if len(sizes) > MAX_FRAMES or sum(sizes) > MAX_MESSAGE_BYTES or any(
                size > MAX_HEADER_BYTES for size in sizes[1:4]):
            raise MessageTooLarge(sum(sizes), msg_list)
        return super().deserialize(msg_list, content=content, copy=copy)

    def stand_in(self, msg_list, why: str) -> dict:
        """The message a dropped one becomes: a stdout note for the request it answers (an
        error reply for a reply), or one with no parent where even that cannot be read."""
        try:
            if any(len(f) > MAX_HEADER_BYTES for f in msg_list[1:3]):
                raise ValueError("header too large")
            header = self.unpack(_bytes(msg_list[1]))
            parent = self.unpack(_bytes(msg_list[2]))
            msg_type = str(header["msg_type"])
            if not isinstance(parent, dict):
                raise TypeError("parent header")
        except Exception:
            return dropped()
        note = (f"\n... output truncated by the grader: a message from the kernel was dropped "
                f"undecoded ({why}) ...\n")
        if msg_type.endswith("_reply"):
            content = {"status": "error", "ename": "MessageTooLarge", "evalue": note.strip(),
                       "traceback": []}
        else:
            msg_type, content = "stream", {"name": "stdout", "text": note}
        header = {**header, "msg_type": msg_type}
        return {"header": header, "msg_id": header.get("msg_id"), "msg_type": msg_type,
                "parent_header": parent, "metadata": {}, "content": content, "buffers": []}


class MessageTooLarge(ValueError):
    def __init__(self, size: int, msg_list) -> None:
        super().__init__(f"{size} bytes in {len(msg_list)} frames (at most "
                         f"{MAX_MESSAGE_BYTES} bytes, {MAX_FRAMES} frames)")
        self.msg_list = msg_list


def _bytes(frame: Any) -> bytes:
    return frame.bytes if isinstance(frame, zmq.Frame) else bytes(frame)


def dropped() -> dict:
    """A message nothing reads: no parent, so it answers no request."""
    return {"header": {"msg_type": "dropped"}, "msg_id": None, "msg_type": "dropped",
            "parent_header": {}, "metadata": {}, "content": {}, "buffers": []}


def side_size(msg: dict) -> int:
    """Bytes a display update or comm message counts against the side budget (0 for other
    messages)."""
    content = msg.get("content")
    transient = content.get("transient") if isinstance(content, dict) else None
    display_id = transient.get("display_id") if isinstance(transient, dict) else None
    if msg.get("msg_type") in SIDE_MESSAGES or (
            display_id and msg.get("msg_type") in ("display_data", "execute_result")):
        return len(str(content)) + sum(len(b) for b in msg.get("buffers") or [])
    return 0


class BoundedChannel(AsyncZMQSocketChannel):
    """A channel that receives frame by frame and drops what is too large, undecoded."""

    async def _recv(self, **kwargs: Any) -> dict:
        frames: list = []
        total = 0
        too_large = False
        while True:
            frame = await self.socket.recv(copy=False, **kwargs)
            kwargs.pop("flags", None)  # the rest of a message is there once its first part is
            total += len(frame)
            if not too_large and len(frames) < MAX_FRAMES + 8 and total <= MAX_MESSAGE_BYTES:
                frames.append(frame)
            else:
                too_large = True  # drained and let go as it comes: never held, never decoded
            if not frame.more:
                break
        session: BoundedSession = self.session  # type: ignore[assignment]
        try:
            _, tail = self._split(frames)
        except ValueError:
            return dropped()
        if too_large:
            return session.stand_in(tail, f"{total} bytes in {len(frames)}+ frames: over the "
                                    f"{MAX_MESSAGE_BYTES}-byte, {MAX_FRAMES}-frame limit")
        try:
            msg = session.deserialize(tail, copy=False)
        except MessageTooLarge as exc:
            return session.stand_in(tail, str(exc))
        except Exception:  # a bad signature, bad JSON: nothing a grader can use
            return dropped()
        size = side_size(msg)
        if size:
            session.side_budget -= size
            if session.side_budget < 0:
                return dropped()
        return msg

    @staticmethod
    def _split(frames: list) -> tuple[list, list]:
        """(identities, the message's frames from the signature on), as feed_identities."""
        for index, frame in enumerate(frames):
            if len(frame) == len(DELIMITER) and frame.bytes == DELIMITER:
                return frames[:index], frames[index + 1:]
        raise ValueError("no delimiter")


class BoundedKernelClient(AsyncKernelClient):
    """jupyter_client's async client with `BoundedChannel`s; `wait_for_ready` asks every 20 ms
    (jupyter_client's gives IOPub 0.2 s to deliver
    the kernel's first status message, and a subscription made a moment too late misses it)."""

    shell_channel_class = Type(BoundedChannel)
    iopub_channel_class = Type(BoundedChannel)
    stdin_channel_class = Type(BoundedChannel)
    control_channel_class = Type(BoundedChannel)

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (timeout if timeout is not None else 60)
        while time.monotonic() < deadline:
            self.kernel_info()
            try:
                reply = await self.shell_channel.get_msg(timeout=0.5)
            except Empty:
                reply = None
            if reply is not None and reply["msg_type"] == "kernel_info_reply":
                try:
                    await self.iopub_channel.get_msg(timeout=0.02)
                except Empty:
                    continue  # IOPub not subscribed yet: ask again
                self._handle_kernel_info_reply(reply)
                while True:  # drop the status messages of the extra requests
                    try:
                        await self.iopub_channel.get_msg(timeout=0.001)
                    except Empty:
                        break
                return
            if not await self.is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
        raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")
