"""emovc's local web toolbox (``emovc app``): convert, recognise, clone, evaluate.

Layout: :mod:`~emovc.app.workdir` (sandboxed work dir), :mod:`~emovc.app.limits` (upload
checks), :mod:`~emovc.app.models` (lazy, injectable pipelines), :mod:`~emovc.app.services`
(what each tab does), :mod:`~emovc.app.plots`, :mod:`~emovc.app.voices`,
:mod:`~emovc.app.session`, :mod:`~emovc.app.listening_test`; only :mod:`~emovc.app.ui` and
:mod:`~emovc.app.server` import gradio.
"""
