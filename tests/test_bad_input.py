"""Bad values and unknown names raise ValueError naming the field and the valid choices."""

from __future__ import annotations

import numpy as np
import pytest

from nnsim.engine import Dense, Dropout, Network, Trainer, activations, initializers, losses, schedules


def test_unknown_names_list_valid_choices() -> None:
    with pytest.raises(ValueError, match="unknown activation 'relu6'.*relu, leaky_relu"):
        activations.get("relu6")
    with pytest.raises(ValueError, match="unknown loss 'hinge'.*binary_crossentropy"):
        losses.get("hinge")
    with pytest.raises(ValueError, match="unknown initializer.*glorot_uniform"):
        initializers.get("identity")
    with pytest.raises(ValueError, match="unknown schedule.*cosine"):
        schedules.Schedule.create("cyclic")
    with pytest.raises(ValueError, match="unknown activation"):
        Dense(3, "swish")


def test_aliases_resolve() -> None:
    assert initializers.INITIALIZERS.canonical("xavier_uniform") == "glorot_uniform"
    assert initializers.INITIALIZERS.canonical("kaiming_normal") == "he_normal"
    assert activations.ACTIVATIONS.canonical("Leaky-ReLU") == "leaky_relu"


@pytest.mark.parametrize("kwargs,fragment", [
    ({"batch_size": 0}, "batch_size"),
    ({"learning_rate": -0.1}, "learning_rate"),
    ({"regularization": "l3"}, "unknown regularization"),
    ({"regularization": "l2", "regularization_rate": -1.0}, "regularization_rate"),
    ({"optimizer": "adam", "optimizer_options": {"beta2": 1.5}}, "beta2"),
    ({"schedule": "step", "schedule_options": {"gamma": 2.0}}, "gamma"),
    ({"loss": "binary_crossentropy", "from_logits": True}, "linear output"),
])
def test_trainer_validation(kwargs, fragment) -> None:
    x = np.zeros((4, 2))
    net = Network(2, [Dense(1, "sigmoid")])
    base = {"loss": "mse"}
    base.update(kwargs)
    with pytest.raises(ValueError, match=fragment):
        Trainer(net, x, np.zeros(4), **base)


def test_structure_errors() -> None:
    with pytest.raises(ValueError, match="units"):
        Dense(0)
    with pytest.raises(ValueError, match="rate"):
        Dropout(1.0)
    with pytest.raises(ValueError, match="last layer must be dense"):
        Network(2, [Dense(3), Dropout(0.1)])
    with pytest.raises(ValueError, match="two dropout layers"):
        Network(2, [Dense(3), Dropout(0.1), Dropout(0.2), Dense(1)])
    with pytest.raises(ValueError, match="softmax is only allowed on the output"):
        Network(2, [Dense(3, "softmax"), Dense(1)])
    with pytest.raises(ValueError, match="outputs"):
        Trainer(Network(2, [Dense(3)]), np.zeros((4, 2)), np.zeros((4, 2)), loss="mse")
    with pytest.raises(ValueError, match="class labels"):
        Trainer(Network(2, [Dense(3, "softmax")]), np.zeros((4, 2)), np.array([0, 1, 2, 3]),
                loss="sparse_categorical_crossentropy")


def test_summary_counts_parameters() -> None:
    net = Network(3, [Dense(4, "relu"), Dropout(0.5), Dense(2, "softmax")])
    rows = net.summary()
    assert [r.params for r in rows] == [16, 0, 10]
    assert sum(r.params for r in rows) == 26 == net.n_params
    assert rows[0].output_shape == "(None, 4)" and rows[1].type == "Dropout"
