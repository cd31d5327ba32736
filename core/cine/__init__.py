"""Cine clips: one nodule carried through a clip. Dense optical flow between neighbouring frames (`flow`), the
propagation itself (`propagation`: the flow warps the mask and the caliper points, the interactive engine
re-segments each frame with the warped mask as its prior, a confidence per frame stops it where a frame needs a
look; key frames and re-propagation after a correction), frames of a clip read lazily (`clip_frames`), accepting a
propagated range into a project as one action (`range_accept`), and seeded synthetic clips made from still frames
for tests and benchmarks (`synthetic_clips`). Floor 6 (beside `training`): imports `interactive`, `project`,
`runtime`, `labels`, `io`, `annotation` and `errors`; never `training`, `learning` or the commands."""
