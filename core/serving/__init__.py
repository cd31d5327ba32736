"""Serving trained networks to an app: the frame model and the click network each run in a process of their
own (`model_process`; the frame model's is `process_pool.ModelProcess`, started with the app and kept across
projects, the click network's is started when a project names one), so neither torch's import nor its inference
can hold the app's interpreter lock; the providers (`frame_model`, `click_model`) decide when a project's model
is wanted, send the requests, wait with a timeout and remember failures; `propose` turns the frame model's map into
*Propose*'s draft mask; `frame_loading` prepares a frame for an
editor (pixels, levels, annotations, an engine session per object, which model should predict it). Floor 8
(above `learning`, whose registries say which click network is in use): imports `learning`'s versions, `project`,
`labels`, `errors` and `interactive`'s torch-free session; the model process alone imports
`runtime` and `interactive`'s click network, and with them torch."""
