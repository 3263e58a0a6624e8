"""Opening a chapter in JupyterLab and saving it (what autosave does) must not change a byte of the Markdown file.

The test goes through the same path as JupyterLab: jupytext's contents manager (with the repository's jupytext.toml)
reads the chapter as a notebook, the kernel that starts stamps its kernelspec and language_info into the metadata, and
the contents manager writes the notebook back as MyST Markdown.
"""

import asyncio
import shutil
from pathlib import Path

import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
from jupytext.async_contentsmanager import build_async_jupytext_contents_manager_class

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted(p for p in (ROOT / "book").rglob("*.md") if "kernelspec:" in p.read_text()[:600])
ContentsManager = build_async_jupytext_contents_manager_class(AsyncLargeFileManager)


async def _open_and_save(folder: Path, name: str) -> None:
    manager = ContentsManager(root_dir=str(folder))
    model = await manager.get(name, content=True, type="notebook")
    notebook = model["content"]
    spec = KernelSpecManager().get_kernel_spec("python3")  # the kernel JupyterLab starts for the chapter
    notebook.metadata["kernelspec"] = {"display_name": spec.display_name, "language": spec.language, "name": "python3"}
    notebook.metadata["language_info"] = {"name": "python", "version": "3.11"}
    await manager.save({"type": "notebook", "format": "json", "content": notebook}, name)


def test_chapters_found():
    assert len(CHAPTERS) >= 8


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_open_and_save_changes_no_byte(path, tmp_path):
    shutil.copy(ROOT / "jupytext.toml", tmp_path)
    shutil.copy(path, tmp_path / path.name)
    asyncio.run(_open_and_save(tmp_path, path.name))
    saved = (tmp_path / path.name).read_text()
    assert saved == path.read_text(), (
        f"{path.name} changes when JupyterLab saves it; rewrite it in jupytext's layout "
        "(captions and alt texts as single-quoted folded YAML strings, the kernelspec of the python3 kernel)")
