"""gnnbook: the companion package of the book "GNN attention, dissected".

GCN, GraphSAGE and GAT layers written from their formulas (``gnnbook.nn``), the three
message-passing ops they are built from (``gnnbook.ops``), dense float64 references
(``gnnbook.reference``) and drawings of attention (``gnnbook.draw``). Nothing here needs DGL or PyG.
"""

from . import compat, graphs, nn, ops, pe, reference  # compat imports PyG only when called
from .graph import Graph, as_graph

__version__ = "0.1.0"
__all__ = ["Graph", "as_graph", "compat", "graphs", "nn", "ops", "pe", "reference", "__version__"]

# Import-safe without scipy/tqdm: the Planetoid loader and the progress bar import them when called.
from . import datasets, train  # noqa: E402

__all__ += ["datasets", "train"]

# Attention drawings and kernel-free figures; ipywidgets is imported only when an explorer is made.
from . import draw, web, widgets  # noqa: E402

__all__ += ["draw", "web", "widgets"]
