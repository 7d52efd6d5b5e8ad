"""xarray grids on projected x/y coordinates with a CRS: embedded at their cell centres, returned on the same grid."""

import numpy as np
import pytest
import xarray as xr
from pyproj import CRS, Transformer

from geoembed import GeoEmbedder, make_encoder

UTM = CRS.from_epsg(32633)
X = np.arange(400_500.0, 410_000.0, 1000.0)  # cell centres, metres
Y = np.arange(5_000_500.0, 5_006_000.0, 1000.0)[::-1]  # north to south, as rasters are


def grid_with(mapping_attrs):
    return xr.DataArray(
        np.zeros((Y.size, X.size)),
        dims=("y", "x"),
        coords={"x": X, "y": Y, "spatial_ref": ((), 0, mapping_attrs)},
        attrs={"grid_mapping": "spatial_ref"},
        name="temperature",
    )


def centres_latlon():
    xx, yy = np.meshgrid(X, Y)
    lon, lat = Transformer.from_crs(UTM, 4326, always_xy=True).transform(xx, yy)
    return lat, lon


@pytest.mark.parametrize(
    "attrs",
    [
        {"crs_wkt": UTM.to_wkt()},  # CF 1.7 crs_wkt, as rioxarray and GDAL write it
        {"spatial_ref": UTM.to_wkt()},  # GDAL's older attribute
        {k: v for k, v in UTM.to_cf().items() if k != "crs_wkt"},  # CF parameters only
    ],
    ids=["crs_wkt", "spatial_ref", "cf_parameters"],
)
@pytest.mark.parametrize("name", ["cartesian3d", "sphereC+"])
def test_a_projected_grid_is_embedded_at_its_cell_centres(attrs, name):
    grid = grid_with(attrs)
    out = make_encoder(name).fit_transform(grid)
    assert out.dims == ("y", "x", "feature") and out.shape[:2] == (Y.size, X.size)
    np.testing.assert_array_equal(out["x"], X)
    np.testing.assert_array_equal(out["y"], Y)
    assert "spatial_ref" in out.coords  # the CRS travels with the output
    lat, lon = centres_latlon()
    np.testing.assert_allclose(out["lat"], lat, atol=1e-9)
    np.testing.assert_allclose(out["lon"], lon, atol=1e-9)
    expected = make_encoder(name).fit_transform(np.column_stack([out["lat"].values.ravel(), out["lon"].values.ravel()]))
    np.testing.assert_array_equal(out.values.reshape(-1, out.shape[-1]), expected)


def test_a_dataset_with_a_grid_mapping_variable():
    data = xr.Dataset(
        {"t": (("y", "x"), np.zeros((Y.size, X.size)), {"grid_mapping": "crs"}), "crs": ((), 0, UTM.to_cf())},
        coords={"x": X, "y": Y},
    )
    out = GeoEmbedder("cartesian3d").fit_transform(data)
    assert out.dims == ("y", "x", "feature")
    np.testing.assert_allclose(out["lat"], centres_latlon()[0], atol=1e-9)


def test_a_projected_grid_without_crs_says_how_to_add_one():
    grid = grid_with({}).drop_vars("spatial_ref")
    with pytest.raises(ValueError, match=r"projected coordinates 'x' and 'y' but no CRS.*rio.write_crs"):
        GeoEmbedder("cartesian3d").fit_transform(grid)


def test_latitude_longitude_coordinates_still_win():
    grid = xr.DataArray(np.zeros((2, 3)), dims=("lat", "lon"), coords={"lat": [10.0, 20.0], "lon": [0.0, 1.0, 2.0]})
    out = GeoEmbedder("cartesian3d").fit_transform(grid)
    assert out.dims == ("lat", "lon", "feature")


def test_rioxarray_crs_is_read():
    rioxarray = pytest.importorskip("rioxarray")  # noqa: F841
    grid = xr.DataArray(np.zeros((Y.size, X.size)), dims=("y", "x"), coords={"x": X, "y": Y}).rio.write_crs(UTM)
    out = GeoEmbedder("cartesian3d").fit_transform(grid)
    np.testing.assert_allclose(out["lat"], centres_latlon()[0], atol=1e-9)
