"""The app's screens: gallery, workspace, help, and the modal dialogs."""

from .dialogs import ErrorDialog, GradCheckDialog, OpenDialog
from .gallery import GalleryScreen
from .help import HelpScreen
from .workspace import WorkspaceScreen

__all__ = ["ErrorDialog", "GalleryScreen", "GradCheckDialog", "HelpScreen",
           "OpenDialog", "WorkspaceScreen"]
