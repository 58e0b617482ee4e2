"""Independent check: gPhoton 1.28.9's PhotonPipe and our photon pipeline on one simulated raw6.

    python bench/gphoton1_check.py --gphoton-python /tmp/gphvenv/bin/python [--events 20000] [--seed 7]

gPhoton 1.28.9 (``pip install gphoton==1.28.9`` into its *own* virtual environment: its setup.py
imports the package, so numpy, pandas, scipy, astropy, requests, future and wheel must be
installed there first and ``--no-build-isolation`` given) is a separate code base (Million et
al. 2016), not our code run backwards. This script simulates a small NUV eclipse with our
simulator, reduces it with our pipeline, runs gPhoton 1's ``PhotonPipe.photonpipe`` on the same
raw6 file (in a child process of ``--gphoton-python``) and compares the two photon lists event
by event (same raw6 row: same time), printing the figures quoted in the README.

What gPhoton 1 gets, and why:

- the shared calibration files (``GAIA_GALEX_CAL_DIR``: wiggle, linearity, flat, mask), linked
  under gPhoton's names into a scratch folder that becomes ``gPhoton.cal.cal_dir``;
- identity walk tables and distortion cubes (all zeros, written here): the real ones are not
  in the shared data and gPhoton 1 would download them from archive.stsci.edu, which this
  machine cannot reach. Our pipeline applies the identity in the same place when they are
  absent (and says so), so both sides apply the same corrections;
- the aspect as a gPhoton 1 ``-asprta`` FITS file (columns t, ra, dec, roll, status_flag; primary
  header RA_CENT, DEC_CENT, ROLL) written from the simulator's aspect table.

gPhoton 1.28.9 sets its flag 12 (aspect problems) at the wrong rows: the last ``cut`` in
``PhotonPipe.photonpipe`` is computed over the subset ``ix`` but its ``np.where(cut == False)``
positions index the whole chunk, so roughly half the events lose their ra/dec to flag 12 at
arbitrary rows. Positions are therefore compared on the events that both give ra/dec for, and
the hotspot mask on the events gPhoton 1 flags 0 (kept) or 6 (masked).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WALK_SHAPE = (32, 480, 480)  # q, y, x in gPhoton 1's walk lookups
CUBE = {"DC_X0": -3000.0, "DC_DX": 100.0, "DC_Y0": -3000.0, "DC_DY": 100.0, "DC_D0": 0.0, "DC_DD": 1.0e9}
CUBE_SHAPE = (1, 61, 61)  # depth, row, col: covers ±3000″ of detector, every stim separation at depth 0


def _gphoton_side(raw6: str, asprta: str, cal_dir: str, outbase: str) -> None:
    """Run in gPhoton 1's own environment: only gPhoton, numpy and astropy are imported here."""
    import gPhoton.cal
    from gPhoton.PhotonPipe import photonpipe

    gPhoton.cal.cal_dir = cal_dir  # read_data() looks here; a missing file would be downloaded
    photonpipe(outbase, "NUV", raw6file=raw6, aspfile=[asprta], verbose=0)


def _prepare_cal(cal_src: Path, folder: Path) -> None:
    """Shared calibration files under gPhoton 1's names, plus identity walk and distortion."""
    import numpy as np
    from astropy.io import fits

    folder.mkdir(parents=True, exist_ok=True)
    for path in cal_src.iterdir():
        (folder / path.name).symlink_to(path)
    for axis in ("x", "y"):
        fits.PrimaryHDU(np.zeros(WALK_SHAPE, np.float32)).writeto(folder / f"NUV_walk_{axis}.fits")
        header = fits.Header(CUBE)
        fits.PrimaryHDU(np.zeros(CUBE_SHAPE, np.float32), header=header).writeto(
            folder / f"nuv_distortion_cube_d{axis}.fits"
        )


def _write_asprta(aspect_dir: Path, eclipse: int, path: Path) -> None:
    """The simulator's aspect as gPhoton 1's -asprta file; the centre is the leg's boresight."""
    import numpy as np
    from astropy.io import fits

    from apps.galex.science.aspect import load_aspect_tables

    asp, bore, _meta, _w, _src = load_aspect_tables(aspect_dir, eclipse)
    primary = fits.PrimaryHDU()
    primary.header["RA_CENT"] = float(bore["ra0"].iloc[0])
    primary.header["DEC_CENT"] = float(bore["dec0"].iloc[0])
    primary.header["ROLL"] = float(asp["roll"].mean())
    table = fits.BinTableHDU.from_columns([
        fits.Column(name="t", format="D", array=asp["time"].to_numpy(float)),
        fits.Column(name="ra", format="D", array=asp["ra"].to_numpy(float)),
        fits.Column(name="dec", format="D", array=asp["dec"].to_numpy(float)),
        fits.Column(name="roll", format="D", array=asp["roll"].to_numpy(float)),
        fits.Column(name="status_flag", format="J", array=asp["flags"].to_numpy(np.int32)),
    ])
    fits.HDUList([primary, table]).writeto(path)


def _ours(raw6: Path, aspect_dir: Path, out: Path, cal_dir: Path):  # noqa: ANN202 - a DataFrame
    import pandas as pd

    from apps.galex.science.pipeline import reduce_eclipse

    reduce_eclipse(raw6, aspect_dir, out, depth=None, compression="none", cal_dir=cal_dir)
    lists = sorted(out.glob("*-b[0-9][0-9].parquet"))  # one photon list per leg
    if not lists:
        raise SystemExit(f"no photon list in {out}: {sorted(p.name for p in out.iterdir())}")
    return pd.concat([pd.read_parquet(p) for p in lists], ignore_index=True)


def _compare(ours, theirs_csv: Path, raw6: Path) -> dict:  # noqa: ANN001
    """Pair the two lists' events by raw6 time and compare sky positions and the hotspot mask."""
    import numpy as np
    import pandas as pd
    from astropy.io import fits

    with fits.open(raw6) as hdus:
        n_raw6 = len(hdus[1].data)
    cols = ["t_ms", "x", "y", "xa", "ya", "q", "xi", "eta", "ra", "dec", "flags"]
    theirs = pd.read_csv(theirs_csv, names=cols)
    theirs["t_key"] = theirs["t_ms"].astype(np.int64)
    ours = ours.assign(t_key=np.floor(ours["t"].to_numpy(float) * 1000 + 1e-6).astype(np.int64))
    # Several events share a 5 ms tick: pair them in file order, and only in ticks where both
    # lists hold the same number of events (ours drops events outside every leg).
    for table in (ours, theirs):
        table["n_tick"] = table.groupby("t_key")["t_key"].transform("size")
        table["rank"] = table.groupby("t_key").cumcount()
    both = ours.merge(theirs, on=["t_key", "rank", "n_tick"], suffixes=("", "_g1"))
    paired = len(both)
    judged = both[both["flags_g1"].isin([0, 6])]  # flags gPhoton 1 sets where it means them (below)
    mask_agrees = int((judged["mask"].to_numpy(bool) == (judged["flags_g1"] == 6).to_numpy()).sum())
    both = both[np.isfinite(both["ra"]) & np.isfinite(both["dec"]) & both["ra_g1"].notna()]
    dra = (both["ra"] - both["ra_g1"]) * np.cos(np.radians(both["dec"]))
    sep = np.hypot(dra, both["dec"] - both["dec_g1"]) * 3600.0
    return {
        "raw6_events": int(n_raw6),
        "gphoton1_rows": int(len(theirs)),
        "gphoton1_with_radec": int(theirs["ra"].notna().sum()),
        "ours_rows": int(len(ours)),
        "ours_with_radec": int(np.isfinite(ours["ra"]).sum()),
        "paired_events": int(paired),
        "paired_with_radec_both": int(len(both)),
        "sep_arcsec_median": float(np.median(sep)) if len(sep) else None,
        "sep_arcsec_p99": float(np.percentile(sep, 99)) if len(sep) else None,
        "sep_arcsec_max": float(sep.max()) if len(sep) else None,
        "hotspot_mask_agrees": f"{mask_agrees} of {len(judged)}",
        "gphoton1_flags": {str(k): int(v) for k, v in theirs["flags"].value_counts().items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gphoton-python", help="python of the virtual environment holding gPhoton 1.28.9")
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--work", help="scratch folder (default: a temporary one)")
    parser.add_argument("--gphoton-side", nargs=4, metavar=("RAW6", "ASPRTA", "CAL", "OUTBASE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.gphoton_side:
        _gphoton_side(*args.gphoton_side)
        return
    if not args.gphoton_python:
        parser.error("--gphoton-python is required")
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gaia_web.settings")
    import django

    django.setup()
    from django.conf import settings

    from apps.galex.science.simulate import simulate_eclipse

    work = Path(args.work or tempfile.mkdtemp(prefix="gphoton1-check-"))
    cal_src = Path(settings.GALEX_CAL_DIR)
    sim = simulate_eclipse(work / "sim", cal_src, n_events=args.events, seed=args.seed)
    _prepare_cal(cal_src, work / "g1cal")
    asprta = work / "e23456-asprta.fits"
    _write_asprta(sim.aspect_dir, 23456, asprta)
    outbase = work / "g1" / "e23456-nd"
    outbase.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [args.gphoton_python, "-W", "ignore", __file__, "--gphoton-side", str(sim.raw6_path), str(asprta),
         str(work / "g1cal"), str(outbase)],
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    ours = _ours(sim.raw6_path, sim.aspect_dir, work / "ours", cal_src)
    print(json.dumps(_compare(ours, Path(f"{outbase}.csv"), sim.raw6_path), indent=2))


if __name__ == "__main__":
    main()
