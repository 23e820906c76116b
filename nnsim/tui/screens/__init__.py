"""The app's screens: loading, gallery, workspace, help, and the modal dialogs."""

from .dialogs import ErrorDialog, GradCheckDialog, OpenDialog
from .gallery import GalleryScreen
from .help import HelpScreen
from .loading import LoadingScreen
from .workspace import WorkspaceScreen

__all__ = ["ErrorDialog", "GalleryScreen", "GradCheckDialog", "HelpScreen", "LoadingScreen",
           "OpenDialog", "WorkspaceScreen"]
