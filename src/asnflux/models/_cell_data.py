"""Static data of the cell model: metabolites, cell-type presets, media, enzymes.

Every number here is a knowledge-base record id, never a value: the builder reads the
values (with their units and citations) from the knowledge base.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["AMINO_ACIDS", "CELL_TYPES", "ENZYMES", "MEDIA", "METABOLITES", "CellType", "Enzyme"]


@dataclass(frozen=True)
class Metabolite:
    key: str  # short id used in SBML ids
    name: str
    chebi: str | None
    formula: str


METABOLITES = {
    "Asn": Metabolite("Asn", "L-asparagine", "CHEBI:17196", "C4H8N2O3"),
    "Asp": Metabolite("Asp", "L-aspartate", "CHEBI:17053", "C4H7NO4"),
    "Gln": Metabolite("Gln", "L-glutamine", "CHEBI:18050", "C5H10N2O3"),
    "Glu": Metabolite("Glu", "L-glutamate", "CHEBI:16015", "C5H9NO4"),
    "Ser": Metabolite("Ser", "L-serine", "CHEBI:17115", "C3H7NO3"),
    "Arg": Metabolite("Arg", "L-arginine", "CHEBI:16467", "C6H14N4O2"),
    "His": Metabolite("His", "L-histidine", "CHEBI:15971", "C6H9N3O2"),
    "Leu": Metabolite("Leu", "L-leucine", "CHEBI:15603", "C6H13NO2"),
    "NH4": Metabolite("NH4", "ammonium", "CHEBI:28938", "NH4"),
    "AKSA": Metabolite("AKSA", "alpha-ketosuccinamate", None, "C4H5NO4"),
    "AKG": Metabolite("AKG", "2-oxoglutarate (buffered)", "CHEBI:30915", "C5H6O5"),
    "OAA": Metabolite("OAA", "oxaloacetate (drained to the TCA cycle)", "CHEBI:30744", "C4H4O5"),
}
#: Amino acids that are transported, charged onto tRNA and built into protein.
AMINO_ACIDS = ("Asn", "Asp", "Gln", "Glu", "Ser", "Arg", "His", "Leu")
#: Intracellular metabolites with dynamics (AKG and OAA are buffered boundary pools).
CYTOSOLIC = (*AMINO_ACIDS, "NH4", "AKSA")
MEDIUM = (*AMINO_ACIDS, "NH4")
EXCHANGE_PARTNERS = ("Ser", "Arg", "His")

# Initial intracellular concentrations: the measured 143B values where they exist.
INITIAL_CYTOSOL = {
    "Asn": "cell.143b.intracellular.asn",
    "Asp": "cell.143b.intracellular.asp",
    "Gln": "cell.143b.intracellular.gln",
    "Glu": "cell.143b.intracellular.glu",
    "Ser": "cell.143b.intracellular.ser",
    "Arg": "cell.143b.intracellular.arg",
    "His": "cell.intracellular.his",
    "Leu": "cell.143b.intracellular.leu",
}


@dataclass(frozen=True)
class CellType:
    key: str  # SBML-safe suffix
    cli: str  # command-line name
    name: str
    volume: str
    doubling: str
    density: str
    asns_vmax: tuple[str, str, str | None]  # (record, operation "*"|"/", record or None)
    asns_induction: str
    gs_vmax: str
    description: str


CELL_TYPES = {
    c.cli: c
    for c in (
        CellType(
            "all_blast",
            "all-blast",
            "ALL blast",
            "cell.all_blast.volume",
            "cell.all_blast.doubling_time",
            "cell.all_blast.density",
            ("asns.vmax.basal_high", "/", "cell.msc_vs_all.asns_expression"),
            "cell.all_blast.asns_mrna_induction_invivo",
            "gs.vmax",
            "ASNS about 20x below MSC (Iwamoto 2007) with a weak (3.5x) induction (Appel 2006).",
        ),
        CellType(
            "all_resistant",
            "all-blast-resistant",
            "resistant ALL blast",
            "cell.all_blast.volume",
            "cell.all_blast.doubling_time",
            "cell.all_blast.density",
            ("asns.vmax.basal_high", "/", "cell.msc_vs_all.asns_expression"),
            "asns.induction.max",
            "gs.vmax",
            "An ALL blast whose ASNS responds fully to ATF4 (up to 10x) and starts 3.5x higher "
            "(resistant vs sensitive ALL, Stams 2005).",
        ),
        CellType(
            "msc",
            "msc",
            "bone-marrow MSC",
            "cell.msc.volume",
            "cell.msc.doubling_time",
            "cell.adherent.density",
            ("asns.vmax.basal_high", "*", None),
            "asns.induction.max",
            "gs.vmax.msc",
            "High ASNS (20x ALL, Iwamoto 2007) and GS (Chiu 2021): makes and secretes Asn.",
        ),
        CellType(
            "hela",
            "hela",
            "HeLa",
            "cell.hela.volume",
            "cell.hela.doubling_time",
            "cell.adherent.density",
            ("asns.vmax.basal_high", "*", None),
            "asns.induction.max",
            "gs.vmax",
            "Cervical carcinoma line; ASNS-dependent in Asn-free medium (seed Table 2).",
        ),
        CellType(
            "c143b",
            "143b",
            "143B osteosarcoma",
            "cell.143b.volume",
            "cell.143b.doubling_time",
            "cell.adherent.density",
            ("asns.vmax.basal_high", "*", None),
            "asns.induction.max",
            "gs.vmax",
            "Takes up Asn efficiently and Asp poorly (seed Table 2; Sullivan 2018).",
        ),
        CellType(
            "solid_high",
            "solid-asns-high",
            "high-ASNS solid tumour",
            "cell.solid.volume",
            "cell.hela.doubling_time",
            "cell.adherent.density",
            ("asns.vmax.basal_high", "*", "asns.resistant_vs_sensitive"),
            "asns.induction.max",
            "gs.vmax",
            "A solid tumour with several-fold more ASNS than HeLa (3.5x, as resistant "
            "ALL over sensitive).",
        ),
    )
}
# The resistant blast's basal ASNS is the sensitive blast's times the resistant/sensitive
# ratio; expressed as an extra factor on top of its asns_vmax entry.
RESISTANT_FACTOR = {"all_resistant": "asns.resistant_vs_sensitive"}

MEDIA = {
    "rpmi-1640": {aa: f"medium.rpmi1640.{aa.lower()}" for aa in AMINO_ACIDS},
    "dmem": {
        "Gln": "medium.dmem.gln",
        "Ser": "medium.dmem.ser",
        "Arg": "medium.dmem.arg",
        "His": "medium.dmem.his",
        "Leu": "medium.dmem.leu",
    },
}
# Molar-mass species for the formulated salts (DMEM lists Arg and His as hydrochlorides).
MEDIUM_SALT = {
    ("dmem", "Arg"): "L-arginine hydrochloride",
    ("dmem", "His"): "L-histidine hydrochloride monohydrate",
}
#: Derived media: (base medium, amino acids removed).
MEDIA_DERIVED = {
    "rpmi-asn-free": ("rpmi-1640", ("Asn",)),
    "rpmi-gln-free": ("rpmi-1640", ("Gln",)),
    "rpmi-leu-free": ("rpmi-1640", ("Leu",)),
    "aa-free": ("rpmi-1640", AMINO_ACIDS),
}


@dataclass(frozen=True)
class Enzyme:
    cli: str
    name: str
    km: str
    glutaminase: str | None


ENZYMES = {
    e.cli: e
    for e in (
        Enzyme(
            "ecoli",
            "E. coli L-asparaginase II",
            "asnase.ecoli.km",
            "asnase.ecoli.glutaminase_fraction",
        ),
        Enzyme(
            "ecoli-q59l",
            "E. coli L-asparaginase II Q59L (glutaminase-free)",
            "asnase.ecoli.km",
            "asnase.ecoli_q59l.glutaminase_fraction",
        ),
        Enzyme(
            "erwinia",
            "Erwinia chrysanthemi L-asparaginase",
            "asnase.erwinia.km",
            "asnase.erwinia.glutaminase_fraction",
        ),
        Enzyme(
            "pseudomonas",
            "Pseudomonas sp. PCH199 L-asparaginase",
            "seed.t1.asnase_pseudomonas_pch199.km",
            None,
        ),
        Enzyme("bacillus", "Bacillus sp. L-asparaginase", "seed.t1.asnase_bacillus.km", None),
        Enzyme(
            "rhizobium", "Rhizobium etli L-asparaginase", "seed.t1.asnase_rhizobium_etli.km", None
        ),
        Enzyme(
            "wolinella",
            "Wolinella succinogenes L-asparaginase",
            "seed.t1.asnase_wolinella.km",
            None,
        ),
    )
}
