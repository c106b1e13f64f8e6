/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Trace events of the VFIO core: the arcs drivers take for the migration
 * state changes userspace asks for, and how each change ended, so that a
 * migration's source and destination devices show on one timeline with
 * the rest of the system (trace-cmd record -e vfio, perf trace -e
 * 'vfio:*'). QEMU traces the requests themselves. A state that is no
 * state prints as its value in hex.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM vfio

#if !defined(_TRACE_VFIO_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TRACE_VFIO_H

#include <linux/tracepoint.h>
#include <linux/vfio.h>

/* The states by value in the format file, for trace-cmd and perf. */
TRACE_DEFINE_ENUM(VFIO_DEVICE_STATE_ERROR);
TRACE_DEFINE_ENUM(VFIO_DEVICE_STATE_STOP);
TRACE_DEFINE_ENUM(VFIO_DEVICE_STATE_RUNNING);
TRACE_DEFINE_ENUM(VFIO_DEVICE_STATE_STOP_COPY);
TRACE_DEFINE_ENUM(VFIO_DEVICE_STATE_RESUMING);
TRACE_DEFINE_ENUM(VFIO_DEVICE_STATE_RUNNING_P2P);
TRACE_DEFINE_ENUM(VFIO_DEVICE_STATE_PRE_COPY);
TRACE_DEFINE_ENUM(VFIO_DEVICE_STATE_PRE_COPY_P2P);

#define show_vfio_mig_state(state)					\
	__print_symbolic(state,						\
			 { VFIO_DEVICE_STATE_ERROR, "ERROR" },		\
			 { VFIO_DEVICE_STATE_STOP, "STOP" },		\
			 { VFIO_DEVICE_STATE_RUNNING, "RUNNING" },	\
			 { VFIO_DEVICE_STATE_STOP_COPY, "STOP_COPY" },	\
			 { VFIO_DEVICE_STATE_RESUMING, "RESUMING" },	\
			 { VFIO_DEVICE_STATE_RUNNING_P2P, "RUNNING_P2P" }, \
			 { VFIO_DEVICE_STATE_PRE_COPY, "PRE_COPY" },	\
			 { VFIO_DEVICE_STATE_PRE_COPY_P2P, "PRE_COPY_P2P" })

/*
 * An arc that the driver starts, from vfio_mig_get_next_state(): it ends
 * where the SET's next arc, or its set_end, begins. seq is the SET's line
 * in migration/history, 0 without it.
 */
TRACE_EVENT(vfio_mig_arc,
	    TP_PROTO(struct vfio_device *vdev, u64 seq, u32 cur, u32 next),
	    TP_ARGS(vdev, seq, cur, next),
	    TP_STRUCT__entry(__string(device, dev_name(vdev->dev))
			     __field(u64, seq)
			     __field(u32, cur)
			     __field(u32, next)),
	    TP_fast_assign(__assign_str(device);
			   __entry->seq = seq;
			   __entry->cur = cur;
			   __entry->next = next;),
	    TP_printk("%s seq=%llu %s -> %s", __get_str(device), __entry->seq,
		      show_vfio_mig_state(__entry->cur),
		      show_vfio_mig_state(__entry->next))
);

/*
 * A SET as it ends: the state its first arc left (from, 0xff for none),
 * the arcs the driver took, what the driver and the ioctl returned, and
 * how long it took. seq, from and arcs come from migration/history, and
 * are 0, 0xff and 0 without it.
 */
TRACE_EVENT(vfio_mig_set_end,
	    TP_PROTO(struct vfio_device *vdev, u64 seq, u32 from, u32 to,
		     u32 arcs, int driver, int result, u64 duration_us),
	    TP_ARGS(vdev, seq, from, to, arcs, driver, result, duration_us),
	    TP_STRUCT__entry(__string(device, dev_name(vdev->dev))
			     __field(u64, seq)
			     __field(u64, duration_us)
			     __field(u32, from)
			     __field(u32, to)
			     __field(u32, arcs)
			     __field(int, driver)
			     __field(int, result)),
	    TP_fast_assign(__assign_str(device);
			   __entry->seq = seq;
			   __entry->duration_us = duration_us;
			   __entry->from = from;
			   __entry->to = to;
			   __entry->arcs = arcs;
			   __entry->driver = driver;
			   __entry->result = result;),
	    TP_printk("%s seq=%llu from=%s to=%s arcs=%u driver=%d result=%d duration_us=%llu",
		      __get_str(device), __entry->seq,
		      show_vfio_mig_state(__entry->from),
		      show_vfio_mig_state(__entry->to), __entry->arcs,
		      __entry->driver, __entry->result, __entry->duration_us)
);

#endif /* _TRACE_VFIO_H */

/* This part must be outside protection */
#include <trace/define_trace.h>
