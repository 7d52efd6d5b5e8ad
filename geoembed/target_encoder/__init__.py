"""LocationTargetEncoder: a cross-fitted prior of the target from location alone.

A supervised transformer in the spirit of scikit-learn's ``TargetEncoder``: it learns
y ~ f(lat, lon) from a small stack of complementary models and hands a downstream model one
column (or one per class) holding that prior. The stack:

- ``"linear"``: ridge regression on GeoCLIP features (one-hot targets for classes), good at
  human geography (country, population, prices);
- ``"knn"``: distance-weighted nearest neighbours on the sphere, good at smooth fields;
- ``"trees"``: extremely randomised trees on latitude, longitude and unit-sphere xyz, good at
  sharp physical boundaries (elevation, climate zones);
- ``"boosting"`` (optional): gradient-boosted trees on the same coordinates.

Each model's one regularisation setting (ridge alpha, number of neighbours, boosting
rounds) is chosen on the same out-of-fold predictions (spatially blocked folds; shuffled rows
for a multiclass target) that train the meta-model, which combines the models with
non-negative weights: non-negative least squares for a continuous target, log-linear pooling
of the probabilities for classes. A multiclass target's columns are the classes' centred log
lifts, log(1 + n_classes * p) less their training mean, the form a logistic head reads best.
"""

from geoembed.target_encoder._estimator import (
    MIN_CLASS_ROWS,
    SKILL_Z,
    SMALL_TABLE_ROWS,
    SMALL_TABLE_ROWS_PER_BLOCK,
    LocationTargetEncoder,
)
from geoembed.target_encoder._learners import LEARNERS
from geoembed.target_encoder._targets import infer_target_type

__all__ = [
    "LEARNERS",
    "MIN_CLASS_ROWS",
    "SKILL_Z",
    "SMALL_TABLE_ROWS",
    "SMALL_TABLE_ROWS_PER_BLOCK",
    "LocationTargetEncoder",
    "infer_target_type",
]
