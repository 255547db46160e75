"""Type stubs of reel.torch (see its docstrings: help(reel.torch))."""

from os import PathLike
from typing import Any, Callable, Dict, Iterator, List, Literal, Optional, Sequence as Seq, Tuple, Union

import torch

class FrameDataset(torch.utils.data.Dataset):
    path: str
    clip_len: int
    stride: int
    clip_step: int
    pix_fmt: Optional[str]
    layout: Literal["HWC", "CHW"]
    dtype: torch.dtype
    size: Optional[Tuple[int, int]]
    missing: Literal["exclude", "raise", "repeat", "black"]
    count: bool
    return_index: bool
    targets: Union[None, str, Tuple[str, ...]]
    cache_bytes: Optional[int]
    def __init__(self, path: Union[str, PathLike], sequences: Union[None, str, Seq[str]] = ...,
                 clip_len: int = ..., stride: int = ..., pix_fmt: Optional[str] = ...,
                 transform: Optional[Callable[[torch.Tensor], Any]] = ..., *,
                 clip_step: int = ..., layout: Literal["HWC", "CHW"] = ...,
                 dtype: torch.dtype = ..., size: Optional[Tuple[int, int]] = ...,
                 missing: Literal["exclude", "raise", "repeat", "black"] = ...,
                 count: bool = ..., return_index: bool = ...,
                 targets: Union[None, str, Seq[str]] = ...,
                 cache_bytes: Union[None, int, str] = ...) -> None: ...
    def __len__(self) -> int: ...
    def locate(self, i: int) -> Tuple[str, int]: ...
    def __getitem__(self, i: int) -> Union[torch.Tensor, Tuple[torch.Tensor, Any],
                                           Tuple[torch.Tensor, Any, Dict[str, Any]]]: ...

def collate(batch: List[Any]) -> Any: ...

class ShardSampler(torch.utils.data.Sampler[int]):
    items: int
    rank: int
    world: int
    seed: int
    chunk: int
    epoch: int
    start: int
    def __init__(self, data_source: Union[int, FrameDataset, Any], rank: Optional[int] = ...,
                 world: Optional[int] = ..., seed: int = ..., chunk: int = ...) -> None: ...
    def set_epoch(self, epoch: int, start: int = ...) -> None: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[int]: ...
