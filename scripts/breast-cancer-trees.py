#!/usr/bin/python3
"""A real tabular bundle for the tests: a random forest trained on scikit-learn's bundled
Wisconsin breast-cancer data (569 rows, 30 features, 2 classes), exported to ONNX the way
skl2onnx exports a classifier: ai.onnx.ml TreeEnsembleClassifier (label + probability tensor)
followed by ZipMap, so "output_probability" is a sequence of maps. No skl2onnx (not in Debian):
the trees are written with onnx.helper. Needs Debian's python3-sklearn, python3-onnx, numpy.

    /usr/bin/python3 scripts/breast-cancer-trees.py OUT_DIR

writes OUT_DIR/model.onnx, features.json, labels.txt and expected.json: the held-out rows
(as the dataset has them) and the trainer's own predict_proba of each.

Thresholds: scikit-learn casts X to float32 and compares x <= t with t a float64 midpoint;
ONNX holds float32 thresholds. For float32 inputs, x <= t is the same as x <= the largest
float32 not above t, which is the threshold written (so the trees decide exactly as sklearn's).
"""
import json
import pathlib
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split


def float32_at_most(t: float) -> float:
    f = np.float32(t)
    if float(f) > t:
        f = np.nextafter(f, np.float32(-np.inf))
    return float(f)


def tree_attributes(forest: RandomForestClassifier) -> dict:
    a = {k: [] for k in (
        "nodes_treeids", "nodes_nodeids", "nodes_featureids", "nodes_values", "nodes_modes",
        "nodes_truenodeids", "nodes_falsenodeids", "nodes_hitrates",
        "nodes_missing_value_tracks_true", "class_treeids", "class_nodeids", "class_ids",
        "class_weights")}
    n_trees = len(forest.estimators_)
    for tid, est in enumerate(forest.estimators_):
        tree = est.tree_
        for nid in range(tree.node_count):
            leaf = tree.children_left[nid] == -1
            a["nodes_treeids"].append(tid)
            a["nodes_nodeids"].append(nid)
            a["nodes_featureids"].append(0 if leaf else int(tree.feature[nid]))
            a["nodes_values"].append(0.0 if leaf else float32_at_most(tree.threshold[nid]))
            a["nodes_modes"].append("LEAF" if leaf else "BRANCH_LEQ")
            a["nodes_truenodeids"].append(0 if leaf else int(tree.children_left[nid]))
            a["nodes_falsenodeids"].append(0 if leaf else int(tree.children_right[nid]))
            a["nodes_hitrates"].append(1.0)
            a["nodes_missing_value_tracks_true"].append(0)
            if leaf:
                value = tree.value[nid][0]
                proba = value / value.sum()  # counts or fractions, by sklearn version
                for cls, p in enumerate(proba):
                    a["class_treeids"].append(tid)
                    a["class_nodeids"].append(nid)
                    a["class_ids"].append(cls)
                    a["class_weights"].append(float(p) / n_trees)
    return a


def map_type(key: int, value: onnx.TypeProto) -> onnx.TypeProto:
    t = onnx.TypeProto()  # onnx.helper.make_map_type_proto is newer than Debian's onnx
    t.map_type.key_type = key
    t.map_type.value_type.CopyFrom(value)
    return t


def export(forest: RandomForestClassifier, n_features: int) -> onnx.ModelProto:
    classes = [int(c) for c in forest.classes_]
    trees = helper.make_node(
        "TreeEnsembleClassifier", ["float_input"], ["output_label", "probabilities"],
        domain="ai.onnx.ml", name="TreeEnsembleClassifier", classlabels_int64s=classes,
        post_transform="NONE", **tree_attributes(forest))
    zipmap = helper.make_node(
        "ZipMap", ["probabilities"], ["output_probability"], domain="ai.onnx.ml",
        name="ZipMap", classlabels_int64s=classes)
    graph = helper.make_graph(
        [trees, zipmap], "breast_cancer_forest",
        [helper.make_tensor_value_info("float_input", TensorProto.FLOAT, [None, n_features])],
        [helper.make_tensor_value_info("output_label", TensorProto.INT64, [None]),
         helper.make_value_info("output_probability", helper.make_sequence_type_proto(
             map_type(TensorProto.INT64, helper.make_tensor_type_proto(TensorProto.FLOAT, []))))])
    model = helper.make_model(
        graph, producer_name="skl2onnx-style (scripts/breast-cancer-trees.py)",
        opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("ai.onnx.ml", 3)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def main() -> None:
    out = pathlib.Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    data = load_breast_cancer()
    X_train, X_test, y_train, _ = train_test_split(
        data.data, data.target, test_size=0.2, random_state=0, stratify=data.target)
    forest = RandomForestClassifier(n_estimators=40, max_depth=5, random_state=0)
    forest.fit(X_train, y_train)
    onnx.save(export(forest, X_train.shape[1]), out / "model.onnx")
    lo, hi = data.data.min(axis=0), data.data.max(axis=0)
    features = [{"name": str(name), "min": 0, "max": float(round(2 * h, 4))}
                for name, h in zip(data.feature_names, hi)]
    (out / "features.json").write_text(json.dumps({"features": features}, indent=2) + "\n")
    (out / "labels.txt").write_text("\n".join(str(n) for n in data.target_names) + "\n")
    proba = forest.predict_proba(X_test)
    (out / "expected.json").write_text(json.dumps({
        "rows": X_test.tolist(), "probabilities": proba.tolist(),
        "trainAccuracy": forest.score(X_train, y_train)}) + "\n")
    assert (lo >= 0).all()


if __name__ == "__main__":
    main()
