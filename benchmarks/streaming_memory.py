"""Peak memory of reading a large generated CIN census XML file (docs/security.md quotes the result).

    python benchmarks/streaming_memory.py --children 200000

Writes the file into a temporary folder, reads it with the CIN reader in a fresh process (schema check on) and
prints the file size, the time and the process's peak resident memory (ru_maxrss). Run it with two sizes to see
how the peak grows: the XML tree is not held (each <Child> is cleared once read), but the values read are kept
as tables for the rules, so memory grows with the data read, not with the file's markup.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = (
    "<Child><ChildIdentifiers><LAchildID>C{n}</LAchildID><UPN>A123456789012</UPN>"
    "<PersonBirthDate>2015-01-01</PersonBirthDate><Sex>F</Sex></ChildIdentifiers>"
    "<ChildCharacteristics><Ethnicity>WBRI</Ethnicity><Disabilities><Disability>NONE</Disability></Disabilities>"
    "</ChildCharacteristics><CINdetails><CINreferralDate>2024-06-01</CINreferralDate><ReferralSource>1A</ReferralSource>"
    "<PrimaryNeedCode>N1</PrimaryNeedCode><ReferralNFA>false</ReferralNFA></CINdetails></Child>\n"
)
HEADER = (
    "<?xml version='1.0' encoding='UTF-8'?>\n<Message><Header><CollectionDetails><Collection>CIN</Collection>"
    "<Year>2025</Year><ReferenceDate>2025-03-31</ReferenceDate></CollectionDetails><Source><SourceLevel>L</SourceLevel>"
    "<LEA>318</LEA><SoftwareCode>x</SoftwareCode><Release>1</Release><SerialNo>1</SerialNo>"
    "<DateTime>2025-05-01T09:00:00</DateTime></Source></Header><Children>\n"
)
READER = """
import resource, sys, time
from pathlib import Path
from validator.ingest.xml_cin import read_cin_xml
start = time.perf_counter()
tables, findings = read_cin_xml(Path(sys.argv[1]), schema_year="2024_25")
print(len(tables["ChildIdentifiers"]), len(findings), round(time.perf_counter() - start, 1),
      resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""
BASELINE = (
    "import resource, validator.ingest.xml_cin; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, nargs="+", default=[50_000, 200_000])
    args = parser.parse_args()
    base = subprocess.run([sys.executable, "-c", BASELINE], capture_output=True, text=True, check=True).stdout.strip()
    print(f"python with the reader imported: {base} MB peak")
    with tempfile.TemporaryDirectory() as tmp:
        for count in args.children:
            path = Path(tmp) / f"cin_{count}.xml"
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(HEADER)
                for n in range(count):
                    fh.write(CHILD.format(n=n))
                fh.write("</Children></Message>\n")
            size = path.stat().st_size / 1024**2
            proc = subprocess.run([sys.executable, "-c", READER, str(path)], capture_output=True, text=True, check=True)
            children, findings, seconds, peak = proc.stdout.split()
            print(f"{size:7.0f} MB file, {children} children, {findings} findings: {seconds} s, peak {peak} MB")
            path.unlink()


if __name__ == "__main__":
    main()
