"""The book's layers, written from their equations with :mod:`gnnbook.ops`.

Each takes DGL 2.1's constructor arguments, forward signature and parameter names, so that
``layer.load_state_dict(dgl_layer.state_dict())`` works both ways (chapter "Inside DGL's GATConv").
"""

from .dotgatconv import DotGATConv
from .gatconv import GATConv
from .gatv2conv import GATv2Conv
from .gps import GPSLayer
from .graphconv import GraphConv
from .sageconv import SAGEConv
from .transformerconv import TransformerConv

DotGatConv = DotGATConv  # DGL's spelling of the same layer

__all__ = [
    "DotGATConv",
    "DotGatConv",
    "GATConv",
    "GATv2Conv",
    "GPSLayer",
    "GraphConv",
    "SAGEConv",
    "TransformerConv",
]
