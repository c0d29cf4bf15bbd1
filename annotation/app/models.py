"""The database tables (SQLAlchemy 2). The schema itself is created by the migrations in migrations/versions."""

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))  # "admin" or "annotator"
    created_at: Mapped[datetime] = mapped_column(DateTime)


class AuthSession(Base):
    __tablename__ = "sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the cookie's token
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    csrf: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(DateTime)


class StoredImage(Base):
    __tablename__ = "images"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the bytes
    filename: Mapped[str] = mapped_column(String(255))  # shown to people only, never used as a path
    extension: Mapped[str] = mapped_column(String(8))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    caption: Mapped[str] = mapped_column(Text, default="")  # given to the AMA drafter
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Batch(Base):
    __tablename__ = "batches"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    task_type: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Task(Base):
    __tablename__ = "tasks"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.id"))
    task_type: Mapped[str] = mapped_column(String(16))  # cap, points, ama, verify
    image_id: Mapped[str] = mapped_column(ForeignKey("images.id"))
    annotator_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(16), default="todo")  # todo, done
    payload: Mapped[str] = mapped_column(Text, default="{}")  # verify: the Count row being checked
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Annotation(Base):
    """One saved piece of work; its id is made by the client, so a retried submit finds it instead of duplicating."""

    __tablename__ = "annotations"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id"))
    kind: Mapped[str] = mapped_column(String(16))  # points, recording, ama_question, verify
    payload: Mapped[str] = mapped_column(Text)  # JSON
    content_hash: Mapped[str] = mapped_column(String(64))  # of the submitted content: same id, other content -> 409
    superseded: Mapped[bool] = mapped_column(Boolean, default=False)  # a re-recording replaced it
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class AMARound(Base):
    __tablename__ = "ama_rounds"
    question_id: Mapped[str] = mapped_column(ForeignKey("annotations.id"), primary_key=True)
    round: Mapped[int] = mapped_column(Integer, primary_key=True)
    draft: Mapped[str] = mapped_column(Text)
    model: Mapped[str] = mapped_column(String(255))
    prompt_version: Mapped[str] = mapped_column(String(64))
    ocr_text: Mapped[str] = mapped_column(Text)
    drafted_at: Mapped[datetime] = mapped_column(DateTime)
    action: Mapped[str] = mapped_column(String(16), default="")  # "", accepted, rejected, edited
    reason: Mapped[str] = mapped_column(Text, default="")
    edited_answer: Mapped[str] = mapped_column(Text, default="")
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
