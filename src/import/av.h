/*
 * av.h - FFmpeg, loaded on first use.
 *
 * libreel does not link FFmpeg: a process that only reads frames never maps libavcodec and
 * the hundred libraries it pulls in (about 26 MiB of resident memory). The first import or
 * PNG encode opens the four libraries (reel__av_load) and calls them through reel__av, a table
 * filled with dlsym. Every file that calls FFmpeg includes this header instead of FFmpeg's own,
 * and the names below turn each call into a call through the table.
 */
#ifndef REEL_IMPORT_AV_H
#define REEL_IMPORT_AV_H

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/display.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

#include "base/common.h"

/* X(library, function): every FFmpeg function libreel and the reel tool call. */
#define REEL__AV_FUNCTIONS(X)                                                                      \
    X(avutil, av_display_rotation_get) X(avutil, av_frame_alloc) X(avutil, av_frame_clone)        \
    X(avutil, av_frame_free) X(avutil, av_frame_unref) X(avutil, av_free)                         \
    X(avutil, av_get_pix_fmt_name) X(avutil, av_image_copy_to_buffer)                             \
    X(avutil, av_image_fill_arrays) X(avutil, av_image_get_buffer_size) X(avutil, av_malloc)      \
    X(avutil, av_pix_fmt_desc_get) X(avutil, av_rescale_q) X(avutil, av_strerror)                 \
    X(avutil, av_frame_get_buffer) X(avutil, av_frame_make_writable) X(avutil, av_image_copy_plane) \
    X(avutil, av_log_set_level) X(avutil, av_dict_set) X(avutil, av_dict_free)                    \
    X(avcodec, av_packet_alloc) X(avcodec, av_packet_free) X(avcodec, av_packet_unref)            \
    X(avcodec, avcodec_alloc_context3) X(avcodec, avcodec_find_decoder)                           \
    X(avcodec, avcodec_find_encoder) X(avcodec, avcodec_free_context) X(avcodec, avcodec_get_name) \
    X(avcodec, avcodec_open2) X(avcodec, avcodec_parameters_to_context)                           \
    X(avcodec, avcodec_receive_frame) X(avcodec, avcodec_receive_packet)                          \
    X(avcodec, avcodec_send_frame) X(avcodec, avcodec_send_packet) X(avcodec, avcodec_flush_buffers) \
    X(avformat, av_find_best_stream) X(avformat, av_read_frame) X(avformat, av_seek_frame)        \
    X(avformat, av_stream_get_side_data) X(avformat, avformat_close_input)                        \
    X(avformat, avformat_find_stream_info) X(avformat, avformat_open_input) X(avformat, avio_seek) \
    X(avformat, avformat_seek_file)                                                               \
    X(swscale, sws_freeContext) X(swscale, sws_getCachedContext) X(swscale, sws_getCoefficients)  \
    X(swscale, sws_getContext) X(swscale, sws_scale) X(swscale, sws_setColorspaceDetails)

typedef struct reel__av_table {
#define REEL__AV_MEMBER(lib, fn) __typeof__(fn) *fn;
    REEL__AV_FUNCTIONS(REEL__AV_MEMBER)
#undef REEL__AV_MEMBER
} reel__av_table;

REEL__HIDDEN extern reel__av_table reel__av;

/* Load FFmpeg once per process: REEL_OK, or REEL_UNSUPPORTED with a message naming the library
 * that could not be opened. Thread-safe; cheap after the first call. */
REEL__HIDDEN int reel__av_load(void);

#ifndef REEL__AV_IMPL
#define av_display_rotation_get (*reel__av.av_display_rotation_get)
#define av_frame_alloc (*reel__av.av_frame_alloc)
#define av_frame_clone (*reel__av.av_frame_clone)
#define av_frame_free (*reel__av.av_frame_free)
#define av_frame_unref (*reel__av.av_frame_unref)
#define av_free (*reel__av.av_free)
#define av_get_pix_fmt_name (*reel__av.av_get_pix_fmt_name)
#define av_image_copy_to_buffer (*reel__av.av_image_copy_to_buffer)
#define av_image_fill_arrays (*reel__av.av_image_fill_arrays)
#define av_image_get_buffer_size (*reel__av.av_image_get_buffer_size)
#define av_malloc (*reel__av.av_malloc)
#define av_pix_fmt_desc_get (*reel__av.av_pix_fmt_desc_get)
#define av_rescale_q (*reel__av.av_rescale_q)
#define av_strerror (*reel__av.av_strerror)
#define av_frame_get_buffer (*reel__av.av_frame_get_buffer)
#define av_frame_make_writable (*reel__av.av_frame_make_writable)
#define av_image_copy_plane (*reel__av.av_image_copy_plane)
#define av_log_set_level (*reel__av.av_log_set_level)
#define av_dict_set (*reel__av.av_dict_set)
#define av_dict_free (*reel__av.av_dict_free)
#define av_packet_alloc (*reel__av.av_packet_alloc)
#define av_packet_free (*reel__av.av_packet_free)
#define av_packet_unref (*reel__av.av_packet_unref)
#define avcodec_alloc_context3 (*reel__av.avcodec_alloc_context3)
#define avcodec_find_decoder (*reel__av.avcodec_find_decoder)
#define avcodec_find_encoder (*reel__av.avcodec_find_encoder)
#define avcodec_free_context (*reel__av.avcodec_free_context)
#define avcodec_get_name (*reel__av.avcodec_get_name)
#define avcodec_open2 (*reel__av.avcodec_open2)
#define avcodec_parameters_to_context (*reel__av.avcodec_parameters_to_context)
#define avcodec_receive_frame (*reel__av.avcodec_receive_frame)
#define avcodec_receive_packet (*reel__av.avcodec_receive_packet)
#define avcodec_send_frame (*reel__av.avcodec_send_frame)
#define avcodec_send_packet (*reel__av.avcodec_send_packet)
#define avcodec_flush_buffers (*reel__av.avcodec_flush_buffers)
#define av_find_best_stream (*reel__av.av_find_best_stream)
#define av_read_frame (*reel__av.av_read_frame)
#define av_seek_frame (*reel__av.av_seek_frame)
#define av_stream_get_side_data (*reel__av.av_stream_get_side_data)
#define avformat_close_input (*reel__av.avformat_close_input)
#define avformat_find_stream_info (*reel__av.avformat_find_stream_info)
#define avformat_open_input (*reel__av.avformat_open_input)
#define avio_seek (*reel__av.avio_seek)
#define avformat_seek_file (*reel__av.avformat_seek_file)
#define sws_freeContext (*reel__av.sws_freeContext)
#define sws_getCachedContext (*reel__av.sws_getCachedContext)
#define sws_getCoefficients (*reel__av.sws_getCoefficients)
#define sws_getContext (*reel__av.sws_getContext)
#define sws_scale (*reel__av.sws_scale)
#define sws_setColorspaceDetails (*reel__av.sws_setColorspaceDetails)
#endif

#endif
