"""The design name: one identifier that names the Verilog modules, the files and the C symbols.

``emit_verilog(netlist, out, name="jet_tagger")`` writes module ``jet_tagger``
in ``jet_tagger.v``; ``emit_c(..., name="jet_tagger")`` prefixes its symbols
with it. So two nets can live in one FPGA project or one firmware, the name
must be a plain identifier in Verilog, SystemVerilog and C alike.
"""

from __future__ import annotations

import re

DEFAULT_DESIGN_NAME = "bitlogic_net"
MAX_NAME_LENGTH = 64  # leaves room for suffixes (_tb, _groupsum) under tools' limits

# ASCII letter first (C reserves leading underscores), then letters, digits, '_'.
_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*", re.ASCII)

# Words no design may be called: keywords of Verilog-2005, the common
# SystemVerilog additions (the testbench is compiled with -g2012) and C99.
RESERVED_WORDS = frozenset("""
    always and assign automatic begin buf bufif0 bufif1 case casex casez cell cmos config
    deassign default defparam design disable edge else end endcase endconfig endfunction
    endgenerate endmodule endprimitive endspecify endtable endtask event for force forever
    fork function generate genvar highz0 highz1 if ifnone incdir include initial inout input
    instance integer join large liblist library localparam macromodule medium module nand
    negedge nmos nor noshowcancelled not notif0 notif1 or output parameter pmos posedge
    primitive pull0 pull1 pulldown pullup pulsestyle_ondetect pulsestyle_onevent rcmos real
    realtime reg release repeat rnmos rpmos rtran rtranif0 rtranif1 scalared showcancelled
    signed small specify specparam strong0 strong1 supply0 supply1 table task time tran
    tranif0 tranif1 tri tri0 tri1 triand trior trireg unsigned use uwire vectored wait wand
    weak0 weak1 while wire wor xnor xor
    alias always_comb always_ff always_latch assert assume bind bit break byte chandle class
    clocking const constraint context continue cover covergroup coverpoint cross dist do
    endclass endclocking endgroup endinterface endpackage endprogram endproperty endsequence
    enum export extends extern final first_match foreach forkjoin iff ignore_bins
    illegal_bins import inside int interface intersect join_any join_none let local logic
    longint matches modport new null package packed priority program property protected pure
    rand randc randcase randsequence ref return sequence shortint shortreal solve static
    string struct super tagged this throughout timeprecision timeunit type typedef union
    unique var virtual void wait_order wildcard with within
    auto char double extern float goto inline long register restrict short sizeof switch
    volatile
""".split())  # noqa: SIM905 (a word list reads best as text)


def validate_design_name(name: object) -> str:
    """Return ``name`` if it can name a Verilog module and prefix C symbols.

    Raises:
        TypeError: ``name`` is not a string.
        ValueError: not an ASCII identifier starting with a letter, longer than
            ``MAX_NAME_LENGTH``, or a Verilog/SystemVerilog/C keyword.

    Example:
        >>> validate_design_name("jet_tagger")
        'jet_tagger'
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}")
    if not _IDENTIFIER.fullmatch(name):
        raise ValueError(
            f"name must be an identifier: an ASCII letter, then letters, digits or '_' "
            f"(it names Verilog modules, files and C symbols), got {name!r}"
        )
    if len(name) > MAX_NAME_LENGTH:
        raise ValueError(f"name must be at most {MAX_NAME_LENGTH} characters, "
                         f"got {len(name)} ({name[:20]!r}...)")
    if name in RESERVED_WORDS:
        raise ValueError(f"name must not be a Verilog, SystemVerilog or C keyword, got {name!r}")
    return name
