// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/vmmig as a device: node, permissions, open/close, unknown ioctls,
 * module unload. Run as root inside the test VM with the module loaded;
 * VMMIG_KO names vmmig.ko for the unload/reload test.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/vmmig.h>

#include "kselftest_harness.h"

#define DEV "/dev/" VMMIG_DEVICE_NAME

static int path_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

TEST(node_is_root_only_char_device)
{
	struct stat st;

	ASSERT_EQ(0, stat(DEV, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0600, st.st_mode & 07777);
	EXPECT_EQ(0, st.st_uid);
	EXPECT_EQ(10, major(st.st_rdev)) TH_LOG("not a misc device");
}

TEST(open_close_version)
{
	int fd, i;

	/* Sessions are per open file: many opens and closes, none leak. */
	for (i = 0; i < 100; i++) {
		fd = open(DEV, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fd);
		EXPECT_EQ(VMMIG_ABI_VERSION, ioctl(fd, VMMIG_IOC_VERSION));
		ASSERT_EQ(0, close(fd));
	}
}

TEST(unknown_ioctl_is_enotty)
{
	static const unsigned long cmds[] = {
		_IO(VMMIG_IOC_TYPE, 0xff),
		_IOW(VMMIG_IOC_TYPE, 0x00, int),	/* right nr, wrong dir/size */
		_IO('T', 0x01),				/* someone else's type */
		0,
	};
	unsigned int i;
	int fd;

	fd = open(DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		errno = 0;
		EXPECT_EQ(-1, ioctl(fd, cmds[i], 0)) TH_LOG("cmd %#lx", cmds[i]);
		EXPECT_EQ(ENOTTY, errno) TH_LOG("cmd %#lx", cmds[i]);
	}
	close(fd);
}

TEST(unprivileged_open_is_refused)
{
	pid_t pid = fork();
	int status;

	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (setgid(65534) || setuid(65534))
			_exit(2);
		if (open(DEV, O_RDWR) >= 0)
			_exit(1);
		_exit(errno == EACCES ? 0 : 3);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("1: opened, 2: setuid, 3: errno");
}

/* Unload refused while a session is open; afterwards nothing is left; reload works. */
TEST(unload_leaves_nothing_behind)
{
	const char *ko = getenv("VMMIG_KO");
	int fd, kofd;

	if (!ko)
		SKIP(return, "VMMIG_KO not set");
	fd = open(DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	errno = 0;
	EXPECT_EQ(-1, syscall(SYS_delete_module, "vmmig", O_NONBLOCK));
	EXPECT_EQ(EWOULDBLOCK, errno);
	close(fd);

	ASSERT_EQ(0, syscall(SYS_delete_module, "vmmig", O_NONBLOCK));
	EXPECT_FALSE(path_exists(DEV));
	EXPECT_FALSE(path_exists("/sys/module/vmmig"));
	EXPECT_FALSE(path_exists("/sys/class/misc/vmmig"));

	kofd = open(ko, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, kofd);
	ASSERT_EQ(0, syscall(SYS_finit_module, kofd, "", 0));
	close(kofd);
	fd = open(DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(VMMIG_ABI_VERSION, ioctl(fd, VMMIG_IOC_VERSION));
	close(fd);
}

TEST_HARNESS_MAIN
