"""`dicom-seg`: DICOM Segmentation objects (BINARY, through highdicom), dicom-seg/<name>.dcm, one per annotated
frame whose source is a DICOM file, with one segment per class (label: the class name) that has a mask on the
frame. Each SEG belongs to its source's study, references the source SOP instance and, for multi-frame sources,
the frame (ReferencedFrameNumber). Frames from other files, and frames with calipers only, are listed as skipped
with the reason. Reading maps each SEG frame back to its source by SOP instance UID."""
from __future__ import annotations

import copy
import warnings
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_data_element, write_dataset, write_file_meta_info
from pydicom.pixels import pack_bits
from pydicom.sr.coding import Code
from pydicom.tag import Tag
from pydicom.uid import generate_uid

from core.errors import AnnotationFormatError
from core.exchange.formats.common import in_parallel, masks_by_class
from core.exchange.model import ClassInfo, ExchangeFrame, ExchangeObject, ExchangeSet
from core.exchange.registry import Format

FOLDER = "dicom-seg"
TISSUE = Code("85756007", "SCT", "Tissue")
PROPERTY_TYPES = {  # SNOMED CT concepts for the classes users name most; anything else is "Tissue"
    "nodule": Code("27925004", "SCT", "Nodule"),
    "thyroid gland": Code("69748006", "SCT", "Thyroid"),
    "thyroid": Code("69748006", "SCT", "Thyroid"),
    "cyst": Code("441457006", "SCT", "Cyst"),
    "lesion": Code("52988006", "SCT", "Lesion"),
}
US_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.6.1"
SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"
TYPE_2_ATTRIBUTES = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex", "StudyDate", "StudyTime",
                     "ReferringPhysicianName", "StudyID", "AccessionNumber")
SOFTWARE = "SonoClick"
CHUNK = 32  # frames whose masks are decoded together, on a few threads


def _header(source: Path) -> Dataset | str:
    """The source's DICOM header, or why it cannot be referenced."""
    try:
        ds = pydicom.dcmread(source, stop_before_pixels=True)
    except Exception:  # pydicom raises many types for files that are not DICOM
        return "not from a DICOM file"
    missing = [k for k in ("SOPInstanceUID", "SOPClassUID", "StudyInstanceUID", "SeriesInstanceUID") if k not in ds]
    return f"the source DICOM has no {', '.join(missing)}" if missing else ds


def _single_frame_view(ds: Dataset) -> Dataset:
    """A copy highdicom accepts: empty type-2 patient/study values filled in and, for a multi-frame source, seen
    as one frame (highdicom takes multi-frame sources only with a frame of reference; ultrasound cine has none).
    The references are put back by _refer_to_frame."""
    view = copy.deepcopy(ds)
    if "FrameOfReferenceUID" not in view and "PixelSpacing" in view:
        del view.PixelSpacing  # highdicom would write pixel measures its own reader refuses without a slice thickness
    for key in TYPE_2_ATTRIBUTES:
        if key not in view:
            setattr(view, key, "")
    if "NumberOfFrames" in view:
        del view.NumberOfFrames
        view.SOPClassUID = US_IMAGE_STORAGE if view.get("Modality") == "US" else SECONDARY_CAPTURE
        for key in ("FrameOfReferenceUID", "SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence"):
            if key in view:
                delattr(view, key)
    return view


def _refer_to_frame(seg: Dataset, source: Dataset, frame_number: int) -> None:
    for group in seg.PerFrameFunctionalGroupsSequence:
        for derivation in group.get("DerivationImageSequence", []):
            for item in derivation.SourceImageSequence:
                item.ReferencedSOPClassUID = source.SOPClassUID
                item.ReferencedFrameNumber = frame_number
    for series in seg.get("ReferencedSeriesSequence", []):
        for item in series.ReferencedInstanceSequence:
            item.ReferencedSOPClassUID = source.SOPClassUID


def _segment(number: int, name: str) -> hd.seg.SegmentDescription:
    return hd.seg.SegmentDescription(
        segment_number=number, segment_label=name, segmented_property_category=TISSUE,
        segmented_property_type=PROPERTY_TYPES.get(name.lower(), TISSUE),
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL,
    )


def _new_segmentation(header: Dataset, names: list[str], pixels: np.ndarray, series_uid: str) -> Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # highdicom's advice on person-name style
        seg = hd.seg.Segmentation(
            source_images=[_single_frame_view(header)], pixel_array=pixels[np.newaxis], segmentation_type="BINARY",
            segment_descriptions=[_segment(k + 1, n) for k, n in enumerate(names)],
            series_instance_uid=series_uid, series_number=900, sop_instance_uid=generate_uid(), instance_number=1,
            manufacturer=SOFTWARE, manufacturer_model_name=SOFTWARE, software_versions="1", device_serial_number="0",
            series_description="SonoClick annotations", omit_empty_frames=False,
        )
    if "FrameOfReferenceUID" not in seg and "PatientOrientation" not in seg:
        seg.PatientOrientation = header.get("PatientOrientation", "")  # type 2C without a frame of reference
    return seg


class _Series:
    """SEGs of one source and one set of segments: built once by highdicom (~0.2 s), then each further frame's
    SEG is the same document with a new instance UID and number, its frame reference and its pixels. The
    elements that never change are encoded once; writing a frame encodes only the four that do."""

    CHANGING = (Tag("SOPInstanceUID"), Tag("InstanceNumber"), Tag("PerFrameFunctionalGroupsSequence"),
                Tag("PixelData"))

    def __init__(self, seg: Dataset) -> None:
        self.seg = seg
        seg["PixelData"].VR = "OB"  # BINARY segmentations are bit-packed bytes
        self.encoding = seg.get("SpecificCharacterSet") or "iso8859"
        self._fixed: list[bytes] = []  # the encoded elements before each changing one, and after the last
        run = Dataset()
        for element in seg:
            if element.tag in self.CHANGING:
                self._fixed.append(self._encode(run))
                run = Dataset()
            else:
                run.add(element)
        self._fixed.append(self._encode(run))
        self._changing = [t for t in (e.tag for e in seg) if t in self.CHANGING]

    def _encode(self, dataset: Dataset) -> bytes:
        fp = DicomBytesIO()
        fp.is_little_endian, fp.is_implicit_VR = True, False
        write_dataset(fp, dataset, parent_encoding=self.encoding)
        return fp.getvalue()

    def next_frame(self, pixels: np.ndarray) -> None:
        seg = self.seg
        seg.SOPInstanceUID = generate_uid()
        seg.file_meta.MediaStorageSOPInstanceUID = seg.SOPInstanceUID
        seg.InstanceNumber = int(seg.InstanceNumber) + 1
        frames = np.moveaxis(pixels, -1, 0)  # one stored frame per segment, in segment order
        seg.PixelData = pack_bits(frames.reshape(-1).astype(np.uint8))
        seg["PixelData"].VR = "OB"  # BINARY segmentations are bit-packed bytes

    def save(self, path: Path) -> None:
        fp = DicomBytesIO()
        fp.write(b"\0" * 128 + b"DICM")
        write_file_meta_info(fp, self.seg.file_meta, enforce_standard=True)
        fp.is_little_endian, fp.is_implicit_VR = True, False
        for fixed, tag in zip(self._fixed, self._changing, strict=False):
            fp.write(fixed)
            write_data_element(fp, self.seg[tag], self.encoding)
        fp.write(self._fixed[-1])
        path.write_bytes(fp.getvalue())


def _segments(frame: ExchangeFrame, order: list[str]) -> tuple[list[str], np.ndarray | None]:
    """The frame's classes with a mask, in class order, and their masks stacked (H, W, S) as 0/1."""
    per_class = {k: m for k, m in masks_by_class(frame).items() if m.any()}
    if not per_class:
        return [], None
    names = sorted(per_class, key=order.index)
    return names, np.stack([per_class[n] for n in names], axis=-1).astype(np.uint8)


def write(out: Path, data: ExchangeSet) -> tuple[int, int, list[str]]:
    folder = out / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    order = [c.name for c in data.classes]
    headers: dict[Path, Dataset | str] = {}
    series: dict[str, str] = {}  # study -> the SEG series made for it
    made: dict[tuple[Path, tuple[str, ...]], _Series] = {}  # (source, segments) -> its SEGs
    frames = objects = 0
    skipped = []
    for start in range(0, len(data.frames), CHUNK):
        chunk = [f for f in data.frames[start : start + CHUNK]
                 if not isinstance(headers.setdefault(f.source, _header(f.source)), str)]
        skipped += [f"{f.name}: {headers[f.source]}" for f in data.frames[start : start + CHUNK] if f not in chunk]
        for frame, (names, pixels) in zip(chunk, in_parallel(lambda f: _segments(f, order), chunk), strict=True):
            header = headers[frame.source]
            if pixels is None:
                skipped.append(f"{frame.name}: no accepted mask (DICOM-SEG carries masks only)")
                continue
            key = (frame.source, tuple(names))
            if key in made:
                made[key].next_frame(pixels)
            else:
                made[key] = _Series(_new_segmentation(header, names, pixels,
                                                      series.setdefault(header.StudyInstanceUID, generate_uid())))
            if "NumberOfFrames" in header:
                _refer_to_frame(made[key].seg, header, frame.index + 1)
            made[key].save(folder / f"{frame.name}.dcm")
            frames, objects = frames + 1, objects + len(names)
    return frames, objects, skipped


def _referenced(file: Path, group: Dataset) -> tuple[str, int]:
    try:
        item = group.DerivationImageSequence[0].SourceImageSequence[0]
        return str(item.ReferencedSOPInstanceUID), int(item.get("ReferencedFrameNumber", 1) or 1)
    except (AttributeError, IndexError, TypeError, ValueError) as exc:
        raise AnnotationFormatError(file, "a segmentation frame does not reference its source image") from exc


def read_file(file: Path) -> tuple[list[ExchangeFrame], list[str]]:
    try:
        seg = hd.seg.segread(file)
        stored = seg.pixel_array
    except Exception as exc:  # highdicom and pydicom raise many types for files that are not a SEG
        raise AnnotationFormatError(file, f"not a readable DICOM segmentation ({type(exc).__name__}: {exc})") from exc
    if seg.SegmentationType not in ("BINARY", "FRACTIONAL"):
        raise AnnotationFormatError(file, f"segmentation type {seg.SegmentationType} is not supported")
    labels = {int(s.SegmentNumber): str(s.SegmentLabel) for s in seg.SegmentSequence}
    stored = stored.reshape(-1, seg.Rows, seg.Columns)
    cut = 1 if seg.SegmentationType == "BINARY" else int(seg.get("MaximumFractionalValue", 255)) / 2
    by_source: dict[tuple[str, int], dict[str, np.ndarray]] = {}
    for k, group in enumerate(seg.PerFrameFunctionalGroupsSequence):
        number = int(group.SegmentIdentificationSequence[0].ReferencedSegmentNumber)
        if number not in labels:
            raise AnnotationFormatError(file, f"frame {k + 1} names segment {number}, which is not described")
        masks = by_source.setdefault(_referenced(file, group), {})
        mask = stored[k] >= cut
        masks[labels[number]] = masks[labels[number]] | mask if labels[number] in masks else mask
    frames = []
    for (uid, frame_number), masks in by_source.items():
        objects = tuple(ExchangeObject(name, m) for name, m in masks.items() if m.any())
        if objects:
            name = file.stem if len(by_source) == 1 else f"{file.stem}_f{frame_number - 1:04d}"
            frames.append(ExchangeFrame(name, None, frame_number - 1, (int(seg.Rows), int(seg.Columns)), objects,
                                        sop_instance_uid=uid))
    return frames, list(labels.values())


def read(path: Path) -> ExchangeSet:
    files = [path] if path.is_file() else sorted((path / FOLDER if (path / FOLDER).is_dir() else path).glob("*.dcm"))
    result = ExchangeSet([])
    names: list[str] = []
    for file in files:
        frames, labels = read_file(file)
        names += labels
        result.frames += frames
        if not frames:
            result.skipped.append(f"{file.name}: nothing to import")
    result.classes = [ClassInfo(n) for n in dict.fromkeys(names)]
    return result


FORMAT = Format("dicom-seg", "DICOM-SEG, one per frame from a DICOM file (one segment per class)",
                "dicom-seg/<name>.dcm", write, read)
