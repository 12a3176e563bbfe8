// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvmcaps: what the nested KVM host's KVM offers a debugger, on one line:
 *   KVMCAPS api=12 guest_debug2=0x1f0003 nested=1
 * guest_debug2 is KVM_CHECK_EXTENSION(KVM_CAP_SET_GUEST_DEBUG2): the
 * KVM_GUESTDBG_* flags KVM_SET_GUEST_DEBUG accepts (0 when the capability is
 * unknown, as before Linux 5.15: no KVM_GUESTDBG_BLOCKIRQ). Built static, it
 * runs in the host's busybox initramfs.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define KVMIO 0xAE
#define KVM_GET_API_VERSION _IO(KVMIO, 0x00)
#define KVM_CHECK_EXTENSION _IO(KVMIO, 0x03)
#define KVM_CAP_NESTED_STATE 157
#define KVM_CAP_SET_GUEST_DEBUG2 195

int main(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		perror("KVMCAPS error: /dev/kvm");
		return 1;
	}
	int api = ioctl(fd, KVM_GET_API_VERSION, 0);
	int dbg2 = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_GUEST_DEBUG2);
	int nested = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_NESTED_STATE);

	printf("KVMCAPS api=%d guest_debug2=%#x nested_state=%d\n", api, dbg2 < 0 ? 0 : dbg2,
	       nested < 0 ? 0 : nested);
	close(fd);
	return 0;
}
