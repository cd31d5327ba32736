"""Serving trained networks to an app: the frame model and the click network each run in a process of their
own (`model_process`, started on first use), so neither torch's import nor its inference can hold the app's
interpreter lock; the providers (`frame_model`, `click_model`) decide when a project's model is wanted, send the
requests, wait with a timeout and remember failures. Floor 6: imports `project`, `labels` and `errors`; the model
process alone imports `runtime` and `interactive`'s click network, and with them torch."""
