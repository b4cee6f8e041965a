"""Small matplotlib helpers shared by the figure scripts (scripts/plot_*.py); matplotlib is imported by them."""


def save_figure(fig, out_prefix):
    """Writes OUT.png and OUT.pdf deterministically (no dates or version strings), so reruns are identical."""
    fig.savefig(out_prefix + ".png", dpi=130, metadata={"Software": None})
    fig.savefig(out_prefix + ".pdf", metadata={"Creator": None, "Producer": None, "CreationDate": None})
    print("wrote", out_prefix + ".png", out_prefix + ".pdf")
