"""Images: everything a guest (and a nested host) is made of, built or fetched
into the cache.

``cache`` (content-addressed entries), ``trees`` (a built kernel tree and the
options it needs), ``default_kernel`` (the 6.1 tree from linux-source-6.1),
``distro`` (Debian's cloud kernel with its -dbg vmlinux), ``guest_image`` (the test
module and the initramfs), ``kernels`` (what a ``--kernel-tree`` name means).
Nothing here starts a guest.
"""
