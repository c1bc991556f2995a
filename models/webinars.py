"""Inter-partnership learning webinars: what, when (with its time zone), for whom, and their revisions."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from sqlmodel import Field, SQLModel

from models.base import json_list, long_text, when


class WebinarStatus(str, Enum):
    scheduled = "scheduled"
    cancelled = "cancelled"


class Webinar(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(unique=True, max_length=200, description="iCalendar UID, stable across updates")
    sequence: int = Field(default=0, description="iCalendar SEQUENCE: +1 on every change sent")
    status: WebinarStatus = Field(default=WebinarStatus.scheduled, index=True)
    title: str = Field(max_length=300)
    abstract: str = long_text(nullable=False)
    speakers: list[str] = json_list()
    start: datetime = when(nullable=False, index=True)
    tzid: str = Field(default="Europe/Brussels", max_length=64, description="the time zone the start was given in")
    duration_minutes: int = 60
    url: str = Field(default="", max_length=1000, description="registration or join link")
    audience: list[str] = json_list()  # list names
    reminder_minutes: list[int] = json_list()  # offsets before the start
    created_by: str = Field(default="", max_length=120)
    created_at: datetime = when(default_now=True)
    updated_at: datetime = when(default_now=True)
