/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Trace events of the VFIO core: the migration state changes userspace
 * asks for, and the arcs drivers take to make them, so that a migration's
 * source and destination devices show on one timeline with the rest of the
 * system (trace-cmd record -e vfio, perf trace -e 'vfio:*'). A requested
 * state that is no state prints as its value in hex.
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

TRACE_EVENT(vfio_mig_set_begin,
	    TP_PROTO(struct vfio_device *vdev, u32 to),
	    TP_ARGS(vdev, to),
	    TP_STRUCT__entry(__string(device, dev_name(vdev->dev))
			     __field(u32, to)),
	    TP_fast_assign(__assign_str(device);
			   __entry->to = to;),
	    TP_printk("%s to=%s", __get_str(device),
		      show_vfio_mig_state(__entry->to))
);

TRACE_EVENT(vfio_mig_arc,
	    TP_PROTO(struct vfio_device *vdev, u32 cur, u32 next),
	    TP_ARGS(vdev, cur, next),
	    TP_STRUCT__entry(__string(device, dev_name(vdev->dev))
			     __field(u32, cur)
			     __field(u32, next)),
	    TP_fast_assign(__assign_str(device);
			   __entry->cur = cur;
			   __entry->next = next;),
	    TP_printk("%s %s -> %s", __get_str(device),
		      show_vfio_mig_state(__entry->cur),
		      show_vfio_mig_state(__entry->next))
);

TRACE_EVENT(vfio_mig_set_end,
	    TP_PROTO(struct vfio_device *vdev, u32 to, int result),
	    TP_ARGS(vdev, to, result),
	    TP_STRUCT__entry(__string(device, dev_name(vdev->dev))
			     __field(u32, to)
			     __field(int, result)),
	    TP_fast_assign(__assign_str(device);
			   __entry->to = to;
			   __entry->result = result;),
	    TP_printk("%s to=%s result=%d", __get_str(device),
		      show_vfio_mig_state(__entry->to), __entry->result)
);

#endif /* _TRACE_VFIO_H */

/* This part must be outside protection */
#include <trace/define_trace.h>
