"""Events: the App Home tab."""

from __future__ import annotations


async def app_home_opened(event, context) -> None:
    if event.get("tab", "home") == "home":
        edge = context["edge"]
        edge.spawn(edge.publish_home(event["user"]), user=event["user"])
