"""The cited knowledge base: every constant AsnFlux uses, with units and a source.

>>> from asnflux.knowledge import load_knowledge_base
>>> kb = load_knowledge_base()
>>> kb.get("seed.t1.asns_human.km_asp").display_value()
'0.53 ± 0.01 mM'
"""

from ._base import TOPIC_FILES as TOPIC_FILES
from ._base import KnowledgeBase as KnowledgeBase
from ._base import load_knowledge_base as load_knowledge_base
from ._record import Record as Record
from ._record import Reference as Reference
from ._schema import FLAGS as FLAGS
from ._schema import KINDS as KINDS

__all__ = [
    "FLAGS",
    "KINDS",
    "TOPIC_FILES",
    "KnowledgeBase",
    "Record",
    "Reference",
    "load_knowledge_base",
]
