"""Where each file of an emitted HDL folder goes, for a design called ``name``.

::

    <name>.v              the design: vendor-portable Verilog-2005, one module <name>
    files.f               the RTL file list (what to add to a project; -f / -c for simulators)
    <name>_tb.v           self-checking testbench (module <name>_tb) ...
    <name>_vectors.hex    ... and its vectors from the reference interpreter
    <name>_vivado.tcl     Vivado non-project, out-of-context build ...
    <name>_ooc.xdc        ... and its constraints (clock period given at export)
    <name>_quartus.tcl    Quartus build ...
    <name>.sdc            ... and its constraints
    yosys/<name>_cells.v  the same design with yosys $lut cells, for fast LUT mapping
    yosys/synth.ys        the yosys script that maps it and reports

The top folder defines every module once (``iverilog -g2012 *.v`` works); the
yosys flavour defines the same module names, so it lives in its own folder.
"""

from __future__ import annotations

from dataclasses import dataclass

from bitlogic.backends.design_name import DEFAULT_DESIGN_NAME, validate_design_name

YOSYS_DIR = "yosys"
FILE_LIST = "files.f"
SYNTH_SCRIPT = "synth.ys"


@dataclass(frozen=True)
class HdlBundle:
    """The file names of one design's bundle (relative to its folder).

    Attributes:
        name: the design (module) name, validated.
    """

    name: str = DEFAULT_DESIGN_NAME

    def __post_init__(self) -> None:
        validate_design_name(self.name)

    @property
    def design(self) -> str:
        """The vendor-portable RTL."""
        return f"{self.name}.v"

    @property
    def testbench(self) -> str:
        """The self-checking testbench; its module is ``testbench_module``."""
        return f"{self.name}_tb.v"

    @property
    def testbench_module(self) -> str:
        """Module name of the testbench."""
        return f"{self.name}_tb"

    @property
    def vectors(self) -> str:
        """The testbench's ``$readmemh`` vectors."""
        return f"{self.name}_vectors.hex"

    @property
    def cells(self) -> str:
        """The yosys-cell flavour, in ``yosys/``."""
        return f"{YOSYS_DIR}/{self.name}_cells.v"

    @property
    def synth_script(self) -> str:
        """The yosys script next to the cell flavour."""
        return f"{YOSYS_DIR}/{SYNTH_SCRIPT}"

    @property
    def vivado_tcl(self) -> str:
        """Vivado non-project build script."""
        return f"{self.name}_vivado.tcl"

    @property
    def xdc(self) -> str:
        """Out-of-context Vivado constraints."""
        return f"{self.name}_ooc.xdc"

    @property
    def quartus_tcl(self) -> str:
        """Quartus build script."""
        return f"{self.name}_quartus.tcl"

    @property
    def sdc(self) -> str:
        """Quartus (SDC) constraints."""
        return f"{self.name}.sdc"

    @property
    def rtl_files(self) -> tuple[str, ...]:
        """What ``files.f`` lists: the synthesizable sources, in compile order."""
        return (self.design,)

