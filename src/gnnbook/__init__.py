"""gnnbook: the companion package of the book "GNN attention, dissected".

GCN, GraphSAGE and GAT layers written from their formulas (``gnnbook.nn``), the three message-passing
ops they are built from (``gnnbook.ops``), dense float64 references (``gnnbook.reference``) and
drawings of attention (``gnnbook.draw``). Nothing here needs DGL or PyG.
"""
from . import graphs, ops
from .device import default_device
from .graph import Graph, as_graph

__version__ = "0.1.0"
__all__ = ["Graph", "as_graph", "default_device", "graphs", "ops", "__version__"]
