"""Files into Slack: files.getUploadURLExternal, the upload, files.completeUploadExternal (slack_sdk's
files_upload_v2 does the three steps). A user id as target means privately: into the desk's direct
message with that person (conversations.open)."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient


async def upload(client: AsyncWebClient, target: str, files: list[tuple[str, bytes]], comment: str | None = None) -> None:
    if not files:
        return
    if target[:1] in ("U", "W"):  # a person: their direct message with the desk
        target = (await client.conversations_open(users=target))["channel"]["id"]
    await client.files_upload_v2(channel=target, initial_comment=comment,
                                 file_uploads=[{"filename": name, "content": content, "title": name} for name, content in files])
