import numpy as np
import pytest

from assistant.numeric import mean_std


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mean_std_is_numpys_bit_for_bit(dtype):
    rng = np.random.default_rng(7)
    for _ in range(300):
        size = int(rng.integers(1, 2500))
        values = (rng.standard_normal(size) * rng.uniform(0.01, 10) + rng.uniform(-5, 5)).astype(dtype)
        mean, std = mean_std(values)
        assert (mean, std) == (values.mean(), values.std())
        assert type(mean) is type(values.mean()) and type(std) is type(values.std())


def test_mean_std_leaves_its_input_alone_and_falls_back_for_other_arrays():
    values = np.array([1.0, 2.0, 4.0], dtype=np.float32)
    mean_std(values)
    assert values.tolist() == [1.0, 2.0, 4.0]
    ints = np.array([1, 2, 4])
    assert mean_std(ints) == (ints.mean(), ints.std())
    assert mean_std(np.ones((2, 2))) == (1.0, 0.0)
